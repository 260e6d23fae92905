"""The vehicle register (issue 18): RDW open data per dataset, and one row per import.

Every register row carries the ``generation`` it was imported in: the id of its import
(0 for rows from before any import). Readers see only the rows of the newest finished
import of each dataset (``current_generation``), so an import writes its rows unseen and
becomes the register in one UPDATE of its own state (DESIGN-NOTES "Vehicle register").
Not a tenant's rows: a garage reaches them only through the plates of its own passports.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow


class Dataset(enum.StrEnum):
    vehicles = "vehicles"  # registered vehicles, m9d7-ebf2
    fuel = "fuel"  # fuel per vehicle, 8ys7-d773
    recall_status = "recall_status"  # recall status per plate, t49b-isb7
    recall_details = "recall_details"  # recall details per reference, j9yg-7rg9


DATASET_LABELS = {
    Dataset.vehicles.value: _l("registered vehicles"),
    Dataset.fuel.value: _l("fuel"),
    Dataset.recall_status.value: _l("recall status"),
    Dataset.recall_details.value: _l("recall details"),
}


class ImportState(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"  # its rows are the register of its dataset (until a newer one is done)
    refused = "refused"  # the file was not taken: the register is as it was
    failed = "failed"


IMPORT_STATE_LABELS = {
    ImportState.queued.value: _l("waiting for the worker"),
    ImportState.running.value: _l("importing"),
    ImportState.done.value: _l("imported"),
    ImportState.refused.value: _l("refused"),
    ImportState.failed.value: _l("failed"),
}


class RegisterImport(Model):
    """One register file: uploaded (or given to ``flask register-import``) and imported by
    the worker. Its id is the generation its rows are written in."""

    __tablename__ = "register_import"
    __table_args__ = (Index("ix_register_import_dataset_state", "dataset", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str | None] = mapped_column(String(20))  # known once the header is read
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    path: Mapped[str] = mapped_column(String(1000), nullable=False)  # where the worker reads it
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    read_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # progress
    rows: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0
    )  # rows taken into the register
    skipped: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0
    )  # rows without plate or reference
    kept: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0
    )  # vanished plates kept from before
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=ImportState.queued.value)
    reason: Mapped[str | None] = mapped_column(
        String(20)
    )  # why refused or failed: services.register_import.REASONS
    reason_params: Mapped[Any] = mapped_column(JSON, nullable=True)
    started_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def current_generation(dataset: str):
    """SQL: the generation readers see for ``dataset`` (0 before its first import). Used
    inside the reader's own statement, so one statement never sees half of a switch."""
    return (
        select(func.coalesce(func.max(RegisterImport.id), 0))
        .where(RegisterImport.dataset == dataset, RegisterImport.state == ImportState.done.value)
        .scalar_subquery()
    )


class RegisteredVehicle(Model):
    """A vehicle of the register as RDW last listed it; ``last_seen_on`` is the day of the
    newest import that held it (older when it vanished from the files since)."""

    __tablename__ = "register_vehicle"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), primary_key=True)  # normalized
    kind: Mapped[str | None] = mapped_column(String(60))  # voertuigsoort
    brand: Mapped[str | None] = mapped_column(String(60))  # merk, as RDW writes it (TOYOTA)
    trade_name: Mapped[str | None] = mapped_column(String(120))  # handelsbenaming (TOYOTA YARIS)
    apk_expiry: Mapped[date | None] = mapped_column(Date)  # vervaldatum_apk
    first_admission: Mapped[date | None] = mapped_column(Date)  # datum_eerste_toelating
    registered_on: Mapped[date | None] = mapped_column(
        Date
    )  # datum_tenaamstelling: the current holder's
    colour: Mapped[str | None] = mapped_column(String(40))  # eerste_kleur
    body: Mapped[str | None] = mapped_column(String(60))  # inrichting
    seats: Mapped[int | None] = mapped_column(Integer)  # aantal_zitplaatsen
    catalogue_price: Mapped[int | None] = mapped_column(Integer)  # catalogusprijs, euros
    last_seen_on: Mapped[date] = mapped_column(Date, nullable=False)


class RegisteredFuel(Model):
    """A fuel of a vehicle: a hybrid has two rows (Benzine 1, Elektriciteit 2)."""

    __tablename__ = "register_fuel"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)  # brandstof_volgnummer
    fuel: Mapped[str] = mapped_column(String(60), nullable=False)  # brandstof_omschrijving


class RecallDetail(Model):
    """What a recall is about, per RDW reference (the status per plate is ``Recall``)."""

    __tablename__ = "recall_detail"

    # A row added one at a time (Admin's recall upload, the demo) joins the details
    # readers see.
    generation: Mapped[int] = mapped_column(
        Integer,
        primary_key=True,
        autoincrement=False,
        default=current_generation(Dataset.recall_details.value),
    )
    reference: Mapped[str] = mapped_column(String(40), primary_key=True)  # referentiecode_rdw
    published_on: Mapped[date | None] = mapped_column(Date)  # publicatiedatum_rdw
    defect: Mapped[str | None] = mapped_column(Text)  # omschrijving_defect
    remedy: Mapped[str | None] = mapped_column(Text)  # beschrijving_van_het_herstel
    consequences: Mapped[str | None] = mapped_column(Text)  # mogelijke_gevolgen
