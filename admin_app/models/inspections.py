"""Vehicle inspection forms (R-IN-1…7), their checkpoints, versions and the recall data."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.domain.money import euro
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.register import Dataset, current_generation
from admin_app.models.types import PlateType


class Checkpoint(Model):
    """One line of the checklist: the platform's standard list (garage_id NULL) or a
    garage's own addition."""

    __tablename__ = "checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("garage.id"), index=True)
    group_name: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class InspectionInvitation(Model):
    """A customer registered his plate for an inspection at this garage (R-IN-1)."""

    __tablename__ = "inspection_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id"), nullable=False, index=True
    )
    passport_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("passport.id"), nullable=False, index=True
    )
    wanted_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    passport = relationship("Passport")


class FormKind(enum.StrEnum):
    customer = "customer"  # customer and vehicle data filled in
    all_ok = "all_ok"  # the same, every checkpoint preset to OK
    blank = "blank"  # only inspector and date


FORM_KIND_LABELS = {
    FormKind.customer.value: _l("Filled with customer data"),
    FormKind.all_ok.value: _l("Filled with customer data, every checkpoint OK"),
    FormKind.blank.value: _l("Blank form"),
}

STATUSES = ("ok", "advice", "urgent", "na")
STATUS_LABELS = {
    "ok": _l("OK"),
    "advice": _l("Advice"),
    "urgent": _l("Urgent"),
    "na": _l("n/a"),
}


# What a version changed, stored as codes with parameters and put into words when read
# (R-IN-5, R-X-2): the English console showed the Dutch sentences versions stored before.
CHANGE_TEXTS = {
    "first_version": _l("First version."),
    "status": _l("%(checkpoint)s: %(old)s → %(new)s"),
    "remark": _l("%(checkpoint)s: remark changed"),
    "advice": _l("Advice: %(count)s item(s), total %(total)s"),
    "part": _l("%(part)s changed"),
    "dates": _l("Dates changed"),
}
PART_LABELS = {"customer": _l("Customer data"), "vehicle": _l("Vehicle data")}


def change_text(change) -> str:
    """One change of a version in the reader's language; a version saved before changes
    were codes holds its (Dutch) sentence, shown as it is."""
    if isinstance(change, str):
        return change
    code, params = change.get("code"), dict(change.get("params") or {})
    if code == "status":
        params["old"] = str(STATUS_LABELS.get(params.get("old"), "—"))
        params["new"] = str(STATUS_LABELS.get(params.get("new"), "—"))
    elif code == "advice":
        params["total"] = euro(params.get("total_cents") or 0)
    elif code == "part":
        params["part"] = str(PART_LABELS.get(params.get("part"), params.get("part")))
    message = CHANGE_TEXTS.get(code)
    if message is None:
        return str(code)
    return str(message) % params if params else str(message)


class InspectionForm(Model):
    """A form: a draft until saved, then numbered versions (R-IN-2, R-IN-5).

    ``content`` is the form as it stands (customer, vehicle, checkpoint results, advice
    items); every save copies it into a version, so earlier versions open unchanged.
    """

    __tablename__ = "inspection_form"
    __table_args__ = (
        Index("ix_inspection_form_garage_id", "garage_id", "id"),
        # The home page's counts (issue 15): a garage's drafts, and whether an invitation
        # has its form, without reading every form.
        Index(
            "ix_inspection_form_drafts",
            "garage_id",
            sqlite_where=text("version = 0"),
            postgresql_where=text("version = 0"),
        ),
        Index(
            "ix_inspection_form_invitation_id",
            "invitation_id",
            sqlite_where=text("invitation_id IS NOT NULL"),
            postgresql_where=text("invitation_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(Integer, ForeignKey("garage.id"), nullable=False)
    passport_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("passport.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("inspection_invitation.id")
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    plate: Mapped[str | None] = mapped_column(PlateType, index=True)
    inspector: Mapped[str] = mapped_column(String(120), nullable=False)
    inspection_date: Mapped[date] = mapped_column(Date, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # 0: a draft
    send_updates: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    still_adjusting: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    content: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    passport = relationship("Passport")
    garage = relationship("Garage")
    versions = relationship(
        "InspectionFormVersion", order_by="InspectionFormVersion.number", viewonly=True
    )
    performed_work = relationship("PerformedWork", order_by="PerformedWork.id", viewonly=True)

    @property
    def is_draft(self) -> bool:
        return self.version == 0


class InspectionFormVersion(Model):
    """A saved state of a form: number, who, when, what changed, the content then."""

    __tablename__ = "inspection_form_version"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("inspection_form.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    saved_by: Mapped[str] = mapped_column(String(200), nullable=False)
    changes: Mapped[Any] = mapped_column(JSON, nullable=False, default=list)
    content: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    mailed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def change_texts(self) -> list[str]:
        return [change_text(change) for change in self.changes or []]


class PerformedWork(Model):
    """Work done on the car, noted on a saved form at any time (R-IN-4)."""

    __tablename__ = "performed_work"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("inspection_form.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    added_by: Mapped[str] = mapped_column(String(200), nullable=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Recall(Model):
    """Recall status per plate (R-IN-3; RDW dataset t49b-isb7): O open, any other code
    closed. Written by the register import and by Admin's recall upload, in the generation
    of the register that readers see (models/register.py); what the recall is about is in
    ``RecallDetail``. Not a tenant's row: a garage reaches it only through the plate of one
    of its own passports."""

    __tablename__ = "recall"
    __table_args__ = (
        UniqueConstraint(
            "generation", "plate", "reference", name="uq_recall_generation_plate_reference"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A row added one at a time (Admin's upload, the demo) joins the register readers see.
    generation: Mapped[int] = mapped_column(
        Integer, nullable=False, default=current_generation(Dataset.recall_status.value)
    )
    plate: Mapped[str] = mapped_column(PlateType, nullable=False)
    reference: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(1), nullable=False)  # O open, P repaired
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
