"""What goes in an export: one section per kind of record about him, each a reader of his
rows (streamed, a batch at a time) and the columns the summary shows them in, with
words for stored codes and times in Amsterdam.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_date, local_datetime
from admin_app.models import (
    AuditLog,
    ContactProposal,
    Customer,
    Garage,
    InspectionForm,
    InspectionInvitation,
    Invoice,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.outbox import KIND_LABELS as MAIL_KIND_LABELS
from admin_app.models.outbox import STATE_LABELS as MAIL_STATE_LABELS
from admin_app.models.passports import STATE_LABELS as PASSPORT_STATE_LABELS
from admin_app.models.proposals import DECISIONS, INVOICE_KINDS, REASONS
from admin_app.models.transfers import TRANSFER_KIND_LABELS, TRANSFER_STATE_LABELS
from admin_app.services.data_exports.subject import Subject, at_garage

BATCH = 500  # rows fetched per step: a long history never sits in memory whole

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


def stream(session: Session, statement) -> Iterator:
    """The statement's rows, BATCH at a time."""
    return session.execute(statement.execution_options(yield_per=BATCH))


def _profile(session: Session, subject: Subject) -> Iterator[dict]:
    statement = (
        select(Customer, Garage.name)
        .join(Garage, Garage.id == Customer.garage_id)
        .where(Customer.id.in_(subject.customer_ids))
        .order_by(Customer.id)
    )
    for customer, garage in stream(session, statement):
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
    for car, garage in stream(session, statement):
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
            at_garage(Transfer, subject.garage_id),
        )
        .order_by(Transfer.id)
    )
    for (transfer,) in stream(session, statement):
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


def forms_statement(subject: Subject):
    # Saved forms of his cars whose customer block names him: a car's earlier owner
    # stays out of his export.
    return (
        select(InspectionForm)
        .where(
            InspectionForm.passport_id.in_(subject.passport_ids),
            InspectionForm.version > 0,
            at_garage(InspectionForm, subject.garage_id),
        )
        .order_by(InspectionForm.id)
    )


def is_his_form(form: InspectionForm, subject: Subject) -> bool:
    """The form's customer block names him (the form's own e-mail, not the car's owner now)."""
    email = ((form.content or {}).get("customer") or {}).get("email") or ""
    return email.lower() == subject.email


def _forms(session: Session, subject: Subject) -> Iterator[dict]:
    from admin_app.domain.plates import display_plate

    for (form,) in stream(session, forms_statement(subject)):
        if not is_his_form(form, subject):
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
        .where(Invoice.customer_id.in_(subject.customer_ids), at_garage(Invoice, subject.garage_id))
        .order_by(Invoice.invoice_date, Invoice.id)  # a reader looks for a date
    )
    for (invoice,) in stream(session, statement):
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
            at_garage(ContactProposal, subject.garage_id),
        )
        .order_by(ContactProposal.week_start, ContactProposal.id)
    )
    for (proposal,) in stream(session, statement):
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
            at_garage(InspectionInvitation, subject.garage_id),
            or_(his_since.is_(None), InspectionInvitation.registered_at >= his_since),
        )
        .order_by(InspectionInvitation.id)
    )
    for (invitation,) in stream(session, statement):
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
            at_garage(OutboxMessage, subject.garage_id),
        )
        .order_by(OutboxMessage.id)
    )
    for row in stream(session, statement):
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
    for (entry,) in stream(session, statement):
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
