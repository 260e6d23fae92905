"""A customer's data export (issue 19, R-DR-1): one ZIP of what the console holds about him.

Who may ask, and how wide the export looks:
- a garage, for its own customer: that one customer row and what hangs from it at that
  garage (GARAGE_CUSTOMER);
- an Owner, for himself: every customer row with his login's e-mail, at every garage
  (PERSON);
- Support: either, from any customer's page.

The request records a DataExport (ids only) and queues ``jobs.data_exports``; the worker
gathers the sections below without a request scope (it filters by the subject's ids
itself), and streams them into a ZIP on disk under DATA_EXPORT_FOLDER: ``overzicht.html``
(a readable Dutch summary, times in Amsterdam, words for states), ``gegevens.json`` (the
data) and the inspection forms' PDFs. Only the requester downloads it, for LIFETIME; then
``delete_expired_exports`` removes the file. Mails are listed by subject, date and state:
their parameters (which name access links and tokens) never enter the ZIP.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_date, local_datetime
from admin_app.domain.errors import Forbidden, Gone, NotFound
from admin_app.models import (
    AuditLog,
    ConsoleUser,
    ContactProposal,
    Customer,
    DataExport,
    Garage,
    InspectionForm,
    InspectionInvitation,
    Invoice,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.data_exports import BUILDING, FAILED, GARAGE_CUSTOMER, PERSON, READY
from admin_app.models.outbox import KIND_LABELS as MAIL_KIND_LABELS
from admin_app.models.outbox import STATE_LABELS as MAIL_STATE_LABELS
from admin_app.models.passports import STATE_LABELS as PASSPORT_STATE_LABELS
from admin_app.models.proposals import DECISIONS, INVOICE_KINDS, REASONS
from admin_app.models.transfers import TRANSFER_KIND_LABELS, TRANSFER_STATE_LABELS
from admin_app.roles import ADMIN, GARAGE, OWNER, SUPPORT
from admin_app.services.audit import Actor, record_bulk

LIFETIME = dt.timedelta(days=7)
# A build claimed longer ago than this was lost with its worker: another may take it.
STALE_AFTER = dt.timedelta(hours=1)
AUDIT_TABLE = "data_export"
NOT_READY = _l("The export is not ready: it is still being made, or it failed.")
SUMMARY_NAME, DATA_NAME, FORMS_FOLDER = "overzicht.html", "gegevens.json", "inspectieformulieren"
BATCH = 500  # rows fetched per step: a long history never sits in memory whole


# --- asking, reading, downloading ------------------------------------------------------------


def request_customer_export(
    session: Session, customer_id, *, actor: Actor, whole_person: bool, now: dt.datetime
) -> DataExport:
    """A garage's export of its own customer, or Support's of any customer (the one row,
    or with ``whole_person`` every garage's row with his e-mail). The customer is read
    through the caller's row scope: another garage's customer is NotFound. Flushes, audits,
    queues the build after commit."""
    from admin_app.scope import scoped_get

    if not actor.has(GARAGE, SUPPORT, ADMIN):
        raise Forbidden(_l("You may not export a customer's data."))
    customer = scoped_get(session, Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Not found."))
    wide = whole_person and may_export_person(actor)
    return _start(
        session,
        DataExport(
            requested_by_id=actor.id,
            customer_id=customer.id,
            garage_id=None if wide else customer.garage_id,
            scope=PERSON if wide else GARAGE_CUSTOMER,
        ),
        actor=actor,
        now=now,
    )


def may_export_person(actor: Actor) -> bool:
    """Only the support desk answers a person for every garage; a garage speaks for
    its own customer."""
    return actor.has(SUPPORT, ADMIN)


def request_own_export(session: Session, *, actor: Actor, now: dt.datetime) -> DataExport:
    """An Owner's export of himself: every garage where his e-mail is a customer."""
    if not actor.has(OWNER) or not actor.email:
        raise Forbidden(_l("You may not export a customer's data."))
    return _start(
        session,
        DataExport(requested_by_id=actor.id, owner_user_id=actor.id, scope=PERSON),
        actor=actor,
        now=now,
    )


def _start(session: Session, export: DataExport, *, actor: Actor, now: dt.datetime):
    from admin_app.queueing import enqueue_after_commit

    waiting = _being_made(session, export, now)
    if waiting is not None:
        return waiting
    export.state, export.progress = BUILDING, 0
    export.created_at, export.expires_at = now, now + LIFETIME
    session.add(export)
    session.flush()
    record_bulk(
        session,
        actor,
        AUDIT_TABLE,
        [("insert", export.id, {"scope": (None, export.scope), **_about(export)})],
        garage_id=export.garage_id,
    )
    enqueue_after_commit(session, "admin_app.jobs.data_exports.build_data_export", export.id)
    return export


def _being_made(session: Session, export: DataExport, now: dt.datetime) -> DataExport | None:
    """The requester's export of the same person and width still being made, if any: asked
    again (a double click, a script in a loop) he gets that one, and the worker builds one
    ZIP rather than one per ask. A build lost longer than STALE_AFTER is not waited for."""
    same = (
        DataExport.customer_id == export.customer_id
        if export.customer_id is not None
        else DataExport.owner_user_id == export.owner_user_id
    )
    return session.scalars(
        select(DataExport)
        .where(
            DataExport.requested_by_id == export.requested_by_id,
            same,
            DataExport.scope == export.scope,
            DataExport.state == BUILDING,
            DataExport.created_at > now - STALE_AFTER,
        )
        .order_by(DataExport.id.desc())
    ).first()


def _about(export: DataExport) -> dict:
    if export.customer_id:
        return {"customer_id": (None, export.customer_id)}
    return {"owner_user_id": (None, export.owner_user_id)}


def open_export(
    session: Session,
    *,
    user_id: int,
    now: dt.datetime,
    customer_id: int | None = None,
    owner_user_id: int | None = None,
) -> DataExport | None:
    """The user's latest export about this customer (or, an Owner's, himself) that is not
    failed nor past its days: the page he left says the file waits, so his page leads back."""
    about = (
        DataExport.customer_id == customer_id
        if customer_id is not None
        else DataExport.owner_user_id == owner_user_id
    )
    return session.scalars(
        select(DataExport)
        .where(
            DataExport.requested_by_id == user_id,
            about,
            DataExport.state != FAILED,
            DataExport.expires_at > now,
        )
        .order_by(DataExport.id.desc())
    ).first()


def get_own_export(session: Session, export_id, *, user_id: int, now: dt.datetime) -> DataExport:
    """The user's own export; NotFound for anyone else's (even a colleague's at the same
    garage) or none, Gone once its days are over."""
    export = session.scalars(
        select(DataExport).where(
            DataExport.id == _id(export_id), DataExport.requested_by_id == user_id
        )
    ).first()
    if export is None:
        raise NotFound(_l("Not found."))
    if export.expires_at <= now:
        raise Gone(
            _l(
                "This export was kept for 7 days and has been deleted. Ask for a new "
                "export for a fresh file."
            )
        )
    return export


def download(
    session: Session, export_id, *, actor: Actor, folder: str, now: dt.datetime
) -> tuple[DataExport, Path] | tuple[DataExport, None]:
    """The requester's ready ZIP and its path, audited (each download); the export
    without a path while it is still being made or failed. Flushes."""
    export = get_own_export(session, export_id, user_id=actor.id, now=now)
    path = _path(folder, export)
    if export.state != READY or path is None or not path.is_file():
        return export, None
    record_bulk(
        session,
        actor,
        AUDIT_TABLE,
        [("download", export.id, _about(export))],
        garage_id=export.garage_id,
    )
    return export, path


def file_name(export: DataExport) -> str:
    return f"gegevens-{export.id}-{export.created_at.strftime('%Y%m%d')}.zip"


def _path(folder: str, export: DataExport) -> Path | None:
    return Path(folder) / export.file_path if export.file_path else None


def _id(value) -> int:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return 0
    return ident if 0 < ident < 2**31 else 0


# --- the worker's side -----------------------------------------------------------------------


def claim(session: Session, export_id: int, now: dt.datetime) -> bool:
    """Take a waiting export for this worker; False when it is built, failed, or being
    built by another live worker (rq delivers at least once). The job commits the claim
    before it builds."""
    claimed = session.execute(
        update(DataExport)
        .where(
            DataExport.id == export_id,
            DataExport.state == BUILDING,
            or_(DataExport.claimed_at.is_(None), DataExport.claimed_at < now - STALE_AFTER),
        )
        .values(claimed_at=now, progress=0)
    ).rowcount
    return bool(claimed)


def set_progress(session: Session, export_id: int, percent: int) -> None:
    """Written in a session of its own, which the job commits at once (jobs/progress): the
    page polls it while the building session still reads."""
    session.execute(update(DataExport).where(DataExport.id == export_id).values(progress=percent))


def finish(
    session: Session, export_id: int, file_path: str, now: dt.datetime, folder: str | None = None
) -> bool:
    """The export is ready, its 7 days counted from now; False (and the file deleted) when
    it is no longer being made: an erase of its person failed it while this build, which
    read him before, was writing his data."""
    finished = session.execute(
        update(DataExport)
        .where(DataExport.id == export_id, DataExport.state == BUILDING)
        .values(
            state=READY, progress=100, file_path=file_path, ready_at=now, expires_at=now + LIFETIME
        )
    ).rowcount
    if not finished:
        if folder is None:
            from flask import current_app

            folder = current_app.config["DATA_EXPORT_FOLDER"]
        (Path(folder) / file_path).unlink(missing_ok=True)
    return bool(finished)


def fail(session: Session, export_id: int) -> None:
    # No error text: it could quote his data; the worker's log has the traceback.
    session.execute(update(DataExport).where(DataExport.id == export_id).values(state=FAILED))


def fail_lost_builds(session: Session, now: dt.datetime) -> int:
    """Exports still "being made" long after their build was claimed (or asked, if no
    worker took it): the worker was lost with them and nobody queues them again. Failed,
    so the requester's page says to ask again rather than waiting for ever. Flushes."""
    lost = session.execute(
        update(DataExport)
        .where(
            DataExport.state == BUILDING,
            func.coalesce(DataExport.claimed_at, DataExport.created_at) < now - STALE_AFTER,
        )
        .values(state=FAILED)
        .execution_options(synchronize_session=False)
    ).rowcount
    return lost


def delete_expired_exports(session: Session, now: dt.datetime, folder: str | None = None) -> int:
    """Delete the files of exports past their days (the rows stay, ids only, so a link
    says "deleted" rather than "not found"). Returns how many files went. Flushes; the
    build job and the retention job call it."""
    if folder is None:
        from flask import current_app

        folder = current_app.config["DATA_EXPORT_FOLDER"]
    expired = session.scalars(
        select(DataExport).where(DataExport.expires_at <= now, DataExport.file_path.is_not(None))
    ).all()
    for export in expired:
        path = _path(folder, export)
        if path is not None and path.exists():
            path.unlink()
        export.file_path = None
    session.flush()
    return len(expired)


def forget_exports_about(
    session: Session, customer_ids: list[int], user_id: int | None, now: dt.datetime
) -> int:
    """Erasure (R-DR-2): the exports about erased customer rows (or an erased Owner's own)
    lose their ZIP, which holds everything he was. The files go once the erase commits:
    an erase that fails leaves them. Returns how many."""
    from flask import current_app
    from sqlalchemy import event

    about = [DataExport.customer_id.in_(customer_ids)]
    if user_id is not None:
        about.append(DataExport.owner_user_id == user_id)
    # One still being made read him before this erase, maybe: it fails, and its build
    # throws its file away (finish).
    exports = session.scalars(
        select(DataExport).where(
            or_(*about), or_(DataExport.file_path.is_not(None), DataExport.state == BUILDING)
        )
    ).all()
    if not exports:
        return 0
    folder = current_app.config["DATA_EXPORT_FOLDER"]
    paths = [_path(folder, export) for export in exports if export.file_path]
    for export in exports:
        if export.state == BUILDING:
            export.state = FAILED
        export.file_path = None
        export.expires_at = min(export.expires_at, now)

    @event.listens_for(session, "after_commit", once=True)
    def _delete_files(_session):
        for path in paths:
            path.unlink(missing_ok=True)

    session.flush()
    return len(exports)


# --- whom it is about ------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The person an export is about: his customer rows (one, or one per garage), his
    e-mail, the garage it is limited to (None: every garage) and the cars he owns or drives
    there."""

    customer_ids: tuple[int, ...]
    email: str
    garage_id: int | None
    passport_ids: tuple[int, ...]


def subject_of(session: Session, export: DataExport) -> Subject:
    """NotFound when the person is gone (erased) before his export was built."""
    if export.customer_id is None and export.owner_user_id is None:
        raise NotFound(_l("Not found."))
    if export.customer_id is not None:
        customer = session.get(Customer, export.customer_id)
        if customer is None:
            raise NotFound(_l("Not found."))
        email = customer.email.lower()
    else:
        user = session.get(ConsoleUser, export.owner_user_id)
        if user is None:
            raise NotFound(_l("Not found."))
        email = (user.email or "").lower()
    if export.scope == GARAGE_CUSTOMER:
        customer_ids = (export.customer_id,)
    else:
        customer_ids = tuple(
            session.scalars(
                select(Customer.id).where(func.lower(Customer.email) == email).order_by(Customer.id)
            )
        )
    passport_ids = tuple(
        session.scalars(
            select(Passport.id)
            .where(
                or_(Passport.owner_id.in_(customer_ids), Passport.driver_id.in_(customer_ids)),
                _at_garage(Passport, export.garage_id),
            )
            .order_by(Passport.id)
        )
    )
    return Subject(customer_ids, email, export.garage_id, passport_ids)


def _at_garage(model, garage_id: int | None):
    return model.garage_id == garage_id if garage_id is not None else true()


# --- what goes in ----------------------------------------------------------------------------

TEXT, MOMENT, DAY, MONEY = "text", "moment", "day", "money"


@dataclass(frozen=True)
class Column:
    """A field of a section: its key in the JSON, its heading in the summary, how it
    reads there, and for a stored code the words it reads as."""

    key: str
    label: object
    kind: str = TEXT
    words: dict | None = None

    def shown(self, value) -> str:
        from admin_app.domain.money import euro

        if value is None or value == "":
            return "—"
        if self.words is not None:
            return str(self.words.get(value, value))
        if self.kind == MOMENT:
            return local_datetime(value)
        if self.kind == DAY:
            return local_date(value)
        if self.kind == MONEY:
            return euro(value)
        if isinstance(value, bool):
            return str(_l("Yes") if value else _l("No"))
        return str(value)


@dataclass(frozen=True)
class Section:
    key: str  # in gegevens.json
    title: object
    columns: tuple[Column, ...]
    rows: Callable[[Session, Subject], Iterator[dict]]


def _stream(session: Session, statement) -> Iterator:
    return session.execute(statement.execution_options(yield_per=BATCH))


def _profile(session: Session, subject: Subject) -> Iterator[dict]:
    statement = (
        select(Customer, Garage.name)
        .join(Garage, Garage.id == Customer.garage_id)
        .where(Customer.id.in_(subject.customer_ids))
        .order_by(Customer.id)
    )
    for customer, garage in _stream(session, statement):
        yield {
            "id": customer.id,
            "garage": garage,
            "first_name": customer.first_name,
            "infix": customer.infix,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
            "street": customer.street,
            "house_number": customer.house_number,
            "postcode": customer.postcode,
            "city": customer.city,
            "customer_number": customer.customer_number,
            "never_contact": customer.never_contact,
            "email_bounced_at": customer.email_bounced_at,
            "created_at": customer.created_at,
        }


def _passports(session: Session, subject: Subject) -> Iterator[dict]:
    from admin_app.domain.plates import display_plate

    owned = set(subject.customer_ids)
    statement = (
        select(Passport, Garage.name)
        .join(Garage, Garage.id == Passport.garage_id)
        .where(Passport.id.in_(subject.passport_ids))
        .order_by(Passport.id)
    )
    for car, garage in _stream(session, statement):
        yield {
            "id": car.id,
            "garage": garage,
            "plate": display_plate(car.plate),
            "brand": car.brand,
            "model": car.model,
            "role": "owner" if car.owner_id in owned else "driver",
            "state": car.state,
            "apk_expiry": car.apk_expiry,
            "next_service": car.next_service,
            "odometer": car.odometer,
            "created_at": car.created_at,
            "activated_at": car.activated_at,
            "archived_at": car.archived_at,
        }


def _transfers(session: Session, subject: Subject) -> Iterator[dict]:
    mine = set(subject.customer_ids)
    statement = (
        select(Transfer)
        .where(
            or_(Transfer.from_customer_id.in_(mine), Transfer.to_customer_id.in_(mine)),
            _at_garage(Transfer, subject.garage_id),
        )
        .order_by(Transfer.id)
    )
    for (transfer,) in _stream(session, statement):
        to_him = transfer.to_customer_id in mine
        yield {
            "id": transfer.id,
            "passport_id": transfer.passport_id,
            "kind": transfer.kind,
            "direction": "to_you" if to_him else "from_you",
            # The other party's name and address are his, not this person's.
            "to_name": transfer.to_name if to_him else None,
            "to_email": transfer.to_email if to_him else None,
            "state": transfer.state,
            "created_at": transfer.created_at,
            "decided_at": transfer.decided_at,
        }


def _forms_statement(subject: Subject):
    # Saved forms of his cars whose customer block names him: a car's earlier owner
    # stays out of his export.
    return (
        select(InspectionForm)
        .where(
            InspectionForm.passport_id.in_(subject.passport_ids),
            InspectionForm.version > 0,
            _at_garage(InspectionForm, subject.garage_id),
        )
        .order_by(InspectionForm.id)
    )


def _his_form(form: InspectionForm, subject: Subject) -> bool:
    email = ((form.content or {}).get("customer") or {}).get("email") or ""
    return email.lower() == subject.email


def _forms(session: Session, subject: Subject) -> Iterator[dict]:
    from admin_app.domain.plates import display_plate

    for (form,) in _stream(session, _forms_statement(subject)):
        if not _his_form(form, subject):
            continue
        yield {
            "id": form.id,
            "kind": form.kind,
            "plate": display_plate(form.plate),
            "inspection_date": form.inspection_date,
            "inspector": form.inspector,
            "version": form.version,
            "saved_at": form.saved_at,
            "content": form.content,
        }


def _invoices(session: Session, subject: Subject) -> Iterator[dict]:
    from admin_app.domain.plates import display_plate

    statement = (
        select(Invoice)
        .where(
            Invoice.customer_id.in_(subject.customer_ids), _at_garage(Invoice, subject.garage_id)
        )
        .order_by(Invoice.invoice_date, Invoice.id)  # a reader looks for a date
    )
    for (invoice,) in _stream(session, statement):
        yield {
            "id": invoice.id,
            "invoice_number": invoice.invoice_number,
            "invoice_date": invoice.invoice_date,
            "plate": display_plate(invoice.plate),
            "kind": invoice.kind,
            "amount_cents": invoice.amount_cents,
        }


def _proposals(session: Session, subject: Subject) -> Iterator[dict]:
    statement = (
        select(ContactProposal)
        .where(
            ContactProposal.customer_id.in_(subject.customer_ids),
            _at_garage(ContactProposal, subject.garage_id),
        )
        .order_by(ContactProposal.week_start, ContactProposal.id)
    )
    for (proposal,) in _stream(session, statement):
        yield {
            "id": proposal.id,
            "passport_id": proposal.passport_id,
            "week_start": proposal.week_start,
            "reason": proposal.reason,
            "predicted_date": proposal.predicted_date,
            "decision": proposal.decision,
            "invited_at": proposal.invited_at,
        }


def _invitations(session: Session, subject: Subject) -> Iterator[dict]:
    from admin_app.models.transfers import TransferState

    # A car transferred to him keeps its earlier owner's invitations (his note, his
    # date): only those registered since the car became his are his, as with the forms.
    his_since = (
        select(func.max(Transfer.decided_at))
        .where(
            Transfer.passport_id == InspectionInvitation.passport_id,
            Transfer.to_customer_id.in_(subject.customer_ids),
            Transfer.state == TransferState.accepted.value,
        )
        .scalar_subquery()
    )
    statement = (
        select(InspectionInvitation)
        .where(
            InspectionInvitation.passport_id.in_(subject.passport_ids),
            _at_garage(InspectionInvitation, subject.garage_id),
            or_(his_since.is_(None), InspectionInvitation.registered_at >= his_since),
        )
        .order_by(InspectionInvitation.id)
    )
    for (invitation,) in _stream(session, statement):
        yield {
            "id": invitation.id,
            "passport_id": invitation.passport_id,
            "wanted_date": invitation.wanted_date,
            "note": invitation.note,
            "registered_at": invitation.registered_at,
        }


def _mails(session: Session, subject: Subject) -> Iterator[dict]:
    # Subject, kind, state and dates only: ``params`` names access links and tokens.
    statement = (
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.subject,
            OutboxMessage.state,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(
            func.lower(OutboxMessage.recipient) == subject.email,
            _at_garage(OutboxMessage, subject.garage_id),
        )
        .order_by(OutboxMessage.id)
    )
    for row in _stream(session, statement):
        yield dict(row._mapping)


def _audit(session: Session, subject: Subject) -> Iterator[dict]:
    from admin_app.services.audit import describe_entries

    # His customer rows' entries, and those of transfers to him; a transfer he started
    # names its new owner, whose data is not his.
    to_him = select(Transfer.id).where(Transfer.to_customer_id.in_(subject.customer_ids))
    statement = (
        select(AuditLog)
        .where(
            or_(
                (AuditLog.table_name == "customer") & AuditLog.record_id.in_(subject.customer_ids),
                (AuditLog.table_name == "transfer") & AuditLog.record_id.in_(to_him),
            )
        )
        .order_by(AuditLog.id)
    )
    if subject.garage_id is not None:
        statement = statement.where(AuditLog.garage_id == subject.garage_id)
    batch = []
    for (entry,) in _stream(session, statement):
        batch.append(entry)
        if len(batch) == BATCH:
            yield from _entries(session, batch, describe_entries)
            batch = []
    yield from _entries(session, batch, describe_entries)


def _entries(session, entries, describe) -> Iterator[dict]:
    if not entries:
        return
    for described in describe(session, entries, "nl"):
        entry = described.entry
        yield {
            "id": entry.id,
            "at": entry.at,
            "who": described.who,
            "what": described.what,
            "changes": described.changes_text,
        }


YOUR_ROLE = {"owner": _l("Owner"), "driver": _l("Driver")}
DIRECTIONS = {"to_you": _l("To you"), "from_you": _l("From you")}

SECTIONS = (
    Section(
        "profile",
        _l("Customer data"),
        (
            Column("garage", _l("Garage")),
            Column("first_name", _l("First name")),
            Column("infix", _l("Infix")),
            Column("last_name", _l("Last name")),
            Column("email", _l("E-mail")),
            Column("phone", _l("Phone")),
            Column("street", _l("Street")),
            Column("house_number", _l("House number")),
            Column("postcode", _l("Postcode")),
            Column("city", _l("City")),
            Column("customer_number", _l("Customer number")),
            Column("never_contact", _l("No more invitations")),  # as on his page (labels)
            Column("created_at", _l("Created"), MOMENT),
        ),
        _profile,
    ),
    Section(
        "passports",
        _l("Vehicle passports"),
        (
            Column("garage", _l("Garage")),
            Column("plate", _l("Plate")),
            Column("brand", _l("Brand")),
            Column("model", _l("Model")),
            Column("role", _l("You are"), words=YOUR_ROLE),
            Column("state", _l("State"), words=PASSPORT_STATE_LABELS),
            Column("apk_expiry", _l("APK expiry"), DAY),
            Column("created_at", _l("Created"), MOMENT),
        ),
        _passports,
    ),
    Section(
        "transfers",
        _l("Transfers"),
        (
            Column("kind", _l("Kind"), words=TRANSFER_KIND_LABELS),
            Column("direction", _l("Direction"), words=DIRECTIONS),
            Column("state", _l("State"), words=TRANSFER_STATE_LABELS),
            Column("created_at", _l("Started"), MOMENT),
            Column("decided_at", _l("Decided"), MOMENT),
        ),
        _transfers,
    ),
    Section(
        "inspection_forms",
        _l("Inspection forms"),
        (
            # No "kind" here: how the garage started the form ("every checkpoint OK") would
            # read to him as its result. gegevens.json keeps it.
            Column("plate", _l("Plate")),
            Column("inspection_date", _l("Inspection date"), DAY),
            Column("inspector", _l("Inspector")),
            Column("version", _l("Version")),
        ),
        _forms,
    ),
    Section(
        "invoices",
        _l("Invoices"),
        (
            Column("invoice_number", _l("Invoice number")),
            Column("invoice_date", _l("Date"), DAY),
            Column("plate", _l("Plate")),
            Column("kind", _l("Kind"), words=INVOICE_KINDS),
            Column("amount_cents", _l("Amount"), MONEY),
        ),
        _invoices,
    ),
    Section(
        "contact_proposals",
        _l("Contact proposals"),
        (
            Column("week_start", _l("Week of"), DAY),
            Column("reason", _l("Reason"), words=REASONS),
            Column("predicted_date", _l("Expected date"), DAY),
            Column("decision", _l("Decision"), words=DECISIONS),
            Column("invited_at", _l("Invited"), MOMENT),
        ),
        _proposals,
    ),
    Section(
        "invitations",
        _l("Inspection invitations"),
        (
            Column("wanted_date", _l("Wanted date"), DAY),
            Column("note", _l("Note")),
            Column("registered_at", _l("Registered"), MOMENT),
        ),
        _invitations,
    ),
    Section(
        "mails",
        _l("Mails to you"),  # a mail not sent (yet, or cancelled) is listed too
        (
            Column("subject", _l("Subject")),
            Column("kind", _l("Kind"), words=MAIL_KIND_LABELS),
            Column("state", _l("State"), words=MAIL_STATE_LABELS),
            Column("created_at", _l("Created"), MOMENT),
            Column("sent_at", _l("Sent"), MOMENT),
        ),
        _mails,
    ),
    Section(
        "audit_log",
        _l("Changes recorded about you"),
        (
            Column("at", _l("When"), MOMENT),
            Column("who", _l("Who")),
            Column("what", _l("What")),
            Column("changes", _l("Changes")),
        ),
        _audit,
    ),
)


# --- the ZIP ---------------------------------------------------------------------------------


def write_export(
    session: Session,
    export_id: int,
    folder: str,
    *,
    with_pdfs: bool,
    progress: Callable[[int], None] = lambda percent: None,
) -> str:
    """Write the export's ZIP under ``folder`` and return its name there. Each section is
    streamed from the database into the ZIP, so a long history never sits in memory.
    Runs inside an app and request context (templates, Dutch words), unscoped."""
    export = session.get(DataExport, export_id)
    subject = subject_of(session, export)
    name = f"data-export-{export.id}.zip"
    Path(folder).mkdir(parents=True, exist_ok=True)
    partial = Path(folder) / f"{name}.part"
    steps = len(SECTIONS) * 2 + (1 if with_pdfs else 0)
    done = 0

    def step():
        nonlocal done
        done += 1
        progress(min(99, 100 * done // steps))

    try:
        with force_locale("nl"), zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(DATA_NAME, "w") as out:
                _write_json(session, export, subject, out, step)
            pdfs_missing = False
            if with_pdfs:
                _write_pdfs(session, subject, archive)
                step()
            else:
                pdfs_missing = bool(_count_forms(session, subject))
            with archive.open(SUMMARY_NAME, "w") as out:
                _write_summary(session, export, subject, out, step, pdfs_missing=pdfs_missing)
    except BaseException:
        # Half a ZIP of his data must not stay on disk, where no expiry would find it.
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, Path(folder) / name)
    return name


def _json_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _write_json(session, export, subject, out, step) -> None:
    def write(text: str):
        out.write(text.encode("utf-8"))

    meta = {"export_id": export.id, "created_at": export.created_at, "scope": export.scope}
    write('{"export": ' + json.dumps(meta, default=_json_value, ensure_ascii=False))
    for section in SECTIONS:
        write(f', "{section.key}": [')
        for i, row in enumerate(section.rows(session, subject)):
            write(("," if i else "") + json.dumps(row, default=_json_value, ensure_ascii=False))
        write("]")
        step()
    write("}\n")


def _count_forms(session, subject) -> int:
    return sum(
        1 for (form,) in _stream(session, _forms_statement(subject)) if _his_form(form, subject)
    )


def _write_pdfs(session, subject, archive) -> None:
    from admin_app.services.inspections import print_html
    from admin_app.services.printing import html_to_pdf

    for (form,) in _stream(session, _forms_statement(subject)):
        if not _his_form(form, subject):
            continue
        pdf = html_to_pdf(print_html(session, form))
        archive.writestr(
            f"{FORMS_FOLDER}/{form.inspection_date.isoformat()}-{form.plate}-{form.id}.pdf", pdf
        )


def _write_summary(session, export, subject, out, step, *, pdfs_missing: bool) -> None:
    from flask import current_app

    def sections():
        for section in SECTIONS:
            rows = (
                [column.shown(row.get(column.key)) for column in section.columns]
                for row in section.rows(session, subject)
            )
            yield section, rows
            step()

    template = current_app.jinja_env.get_template("console/data_export_summary.html")
    for chunk in template.generate(
        export=export,
        everywhere=export.scope == PERSON,
        # Which garage: the owner reads the file far from the screen that made it.
        garage=session.get(Garage, export.garage_id).name if export.garage_id else None,
        created=local_datetime(export.created_at),
        sections=sections(),
        pdfs_missing=pdfs_missing,
    ):
        out.write(chunk.encode("utf-8"))
