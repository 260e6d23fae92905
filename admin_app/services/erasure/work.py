"""The work of one erase (services/erasure): every place his values live, one named step
each, in the caller's transaction. The steps that change ORM rows (his customer rows, his
login, transfers to him) come first and are flushed, so the audit log records those
changes; the steps after work in SQL and walk the audit log's entries too, old values
included."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from admin_app.models import (
    AccessToken,
    BatchJob,
    BatchRow,
    ConsoleUser,
    Customer,
    InspectionForm,
    InspectionInvitation,
    Invoice,
    OutboxMessage,
    Passport,
    PassportClaim,
    PassportState,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.models.outbox import OutboxState
from admin_app.services import data_exports
from admin_app.services.emails import email_key
from admin_app.services.erasure.scrub import (
    by_rules,
    rules_on_rows,
    scrub_stored_bytes,
    scrub_table,
    table_of,
    walk_rows,
)
from admin_app.services.inspections import FORM_LINK
from admin_app.services.passports import ACTIVATION, DRIVER_ACCESS
from admin_app.services.personal_data import ERASED, REGISTRY, Rule, Traces, erased_email
from admin_app.services.proposals import OPT_OUT
from admin_app.services.transfers import ACCEPT


@dataclass(frozen=True)
class Reach:
    """What one erase reaches: his customer rows (one garage's, or every garage's), his
    Owner login (a person's erase), the garage it is limited to (None: every garage), his
    addresses as they were before the erase rewrote them."""

    session: Session
    customers: tuple[Customer, ...]
    user: ConsoleUser | None
    garage_id: int | None
    now: dt.datetime
    ids: tuple[int, ...]
    emails: frozenset[str]

    @classmethod
    def of(cls, session, customers, user, garage_id) -> Reach:
        emails = {email_key(c.email) for c in customers}
        if user is not None:
            emails.add(email_key(user.email))
        return cls(
            session,
            tuple(customers),
            user,
            garage_id,
            utcnow(),
            tuple(c.id for c in customers),
            frozenset(emails),
        )

    def in_garage(self, statement, column):
        """``statement`` limited to the erased garage's rows, when the erase is one's."""
        return statement if self.garage_id is None else statement.where(column == self.garage_id)

    def owned(self):
        """Every car he owns at the erased garage(s), archived or not."""
        return select(Passport.id).where(Passport.owner_id.in_(self.ids))


def erase_rows(session: Session, customers, *, user, garage_id: int | None) -> None:
    """His values replaced everywhere the erase reaches; flushed, never committed."""
    reach = Reach.of(session, customers, user, garage_id)
    traces = traces_of(list(customers), user)
    archive_his_cars(reach)
    transfers = anonymize_his_rows(reach)
    if user is not None:
        close_his_login(reach, user)
    if garage_id is None:
        forget_his_registration(reach)
    delete_his_links(reach, transfers)
    session.flush()  # the audit log now holds these changes, with his old values in them
    cancel_and_walk_his_mails(reach, traces)
    empty_his_list_rows(reach, traces)
    empty_his_invoices_and_notes(reach)
    walk_entries_about_him(reach, traces, transfers)
    if traces:
        scrub_everywhere(reach, traces)
    session.flush()


def traces_of(customers: list[Customer], user: ConsoleUser | None) -> Traces:
    """His values as they may be quoted elsewhere. A bare last name is left out: garages
    carry surnames too ("Autobedrijf Jansen"), and a mail to their customers names them.
    Nor a bare street or postcode: a street holds many customers, a postcode a dozen
    houses, and their addresses are not his (an object naming him loses its street and
    postcode by their keys, personal_data.walk)."""
    values = [value for c in customers for value in _customer_traces(c)]
    if user is not None:
        values.append(user.email)
        # A plain login name ("karel", the demo's "eigenaar") is a word others' texts hold
        # too; where it names him (an entry's actor, a transfer's creator, an export's
        # user) it goes by his user id.
        if "@" in (user.username or ""):
            values.append(user.username)
        if user.first_name and user.last_name:
            values.append(f"{user.first_name} {user.last_name}")
    return Traces(v for v in values if v and ERASED not in v.lower())


def _customer_traces(c: Customer) -> list[str | None]:
    # Not his customer number alone: it is one garage's key, and another garage's
    # customer may have the same one (an object naming him loses it by its key).
    values: list[str | None] = [c.email, *phone_forms(c.phone)]
    if c.first_name:
        values += [c.full_name, f"{c.first_name} {c.last_name}"]
    if c.street and c.house_number:
        values.append(f"{c.street} {c.house_number}")
    if c.postcode and c.house_number:
        compact = c.postcode.replace(" ", "")
        for postcode in {c.postcode, compact, f"{compact[:4]} {compact[4:]}"}:
            values += [f"{postcode} {c.house_number}", f"{postcode}-{c.house_number}"]
    return values


def phone_forms(phone: str | None) -> list[str]:
    """His number as stored and as others write it: a note or a webhook's payload says
    "0655501234" or "+31655501234" where the customer row says "06-55501234"."""
    if not phone:
        return []
    digits = re.sub(r"\D", "", phone)
    forms = [phone, digits]
    national = None
    if digits.startswith("0031"):
        national = digits[4:]
    elif phone.strip().startswith("+31") or (digits.startswith("31") and len(digits) == 11):
        national = digits[2:]
    elif digits.startswith("0") and not digits.startswith("00"):
        national = digits[1:]
    if national and len(national) == 9:
        forms += ["0" + national, "+31" + national, "0031" + national, "+31 " + national]
        forms += ["0" + national[:1] + " " + national[1:], "0" + national[:1] + "-" + national[1:]]
    return forms


def archive_his_cars(reach: Reach) -> None:
    """His cars at the erased garage(s): archived, "zonder eigenaar" — the owner row they
    point at (owner_id may not be empty) reads "verwijderd" now. Cars he drives lose him.
    His claims on both go, and his data exports' ZIPs (once the erase commits)."""
    session, ids = reach.session, reach.ids
    for passport in session.scalars(
        select(Passport).where(
            Passport.owner_id.in_(ids), Passport.state != PassportState.archived.value
        )
    ):
        passport.state = PassportState.archived.value
        passport.archived_at = reach.now
        passport.fleet_account_id = None
    driven = list(session.scalars(select(Passport).where(Passport.driver_id.in_(ids))))
    for passport in driven:
        passport.driver_id = None
    data_exports.forget_exports_about(
        session, list(ids), reach.user.id if reach.user else None, reach.now
    )
    session.execute(
        delete(PassportClaim).where(
            or_(
                PassportClaim.passport_id.in_(reach.owned()) & (PassportClaim.role == "owner"),
                PassportClaim.passport_id.in_([p.id for p in driven])
                & (PassportClaim.role == "driver"),
            )
        )
    )


def anonymize_his_rows(reach: Reach) -> list[Transfer]:
    """His customer rows and the transfers to him, column by column by the registry (ORM
    changes, so audited). Returns those transfers."""
    for customer in reach.customers:
        by_rules(customer, "customer")
    transfers = list(
        reach.session.scalars(select(Transfer).where(Transfer.to_customer_id.in_(reach.ids)))
    )
    for transfer in transfers:
        by_rules(transfer, "transfer", only=("to_email", "to_name"))
    return transfers


def close_his_login(reach: Reach, user: ConsoleUser) -> None:
    """His Owner login: anonymized, inactive, its sessions ended, its claims and links
    gone; where it names him as an actor (the audit log, a transfer he started, a list
    export he made) it reads "verwijderd"."""
    session = reach.session
    by_rules(user, "ab_user")
    user.active = False
    user.session_generation = (user.session_generation or 0) + 1  # ends his sessions
    session.execute(delete(PassportClaim).where(PassportClaim.user_id == user.id))
    session.execute(
        delete(AccessToken).where(
            or_(
                AccessToken.user_id == user.id,
                func.lower(AccessToken.recipient).in_(reach.emails),
            )
        )
    )
    for table, column in (("audit_log", "actor_name"), ("transfer", "created_by")):
        model = table_of(table)
        actor_column = model.c.actor_id if table == "audit_log" else model.c.created_by_id
        session.execute(update(model).where(actor_column == user.id).values({column: ERASED}))
    exports = table_of("export_file")
    session.execute(update(exports).where(exports.c.user_id == user.id).values(user_name=ERASED))


def forget_his_registration(reach: Reach) -> None:
    """A self-registration FAB kept under his address (unused here, but a table of his)."""
    registrations = table_of("ab_register_user")
    registered = list(
        reach.session.scalars(
            select(registrations.c.id).where(func.lower(registrations.c.email).in_(reach.emails))
        )
    )
    if registered:
        rules_on_rows(reach.session, "ab_register_user", registered)


def delete_his_links(reach: Reach, transfers: list[Transfer]) -> None:
    """The links mailed to him about what is erased here (his login's other links stay in
    a customer's erase): each purpose names its subject by another table's id."""
    owned = reach.owned()
    subjects = {
        ACTIVATION: owned,
        DRIVER_ACCESS: reach.ids,
        OPT_OUT: reach.ids,
        ACCEPT: [t.id for t in transfers],
        FORM_LINK: select(InspectionForm.id).where(InspectionForm.passport_id.in_(owned)),
    }
    reach.session.execute(
        delete(AccessToken).where(
            func.lower(AccessToken.recipient).in_(reach.emails),
            or_(
                *(
                    (AccessToken.purpose == purpose) & AccessToken.subject_id.in_(subject)
                    for purpose, subject in subjects.items()
                )
            ),
        )
    )


def cancel_and_walk_his_mails(reach: Reach, traces: Traces) -> None:
    """Mails to him: the row stays (kind, state, when); one not sent yet is never sent."""
    session = reach.session
    to_him = select(OutboxMessage.id).where(func.lower(OutboxMessage.recipient).in_(reach.emails))
    mail_ids = list(session.scalars(reach.in_garage(to_him, OutboxMessage.garage_id)))
    if not mail_ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(mail_ids),
            OutboxMessage.state.in_((OutboxState.pending.value, OutboxState.sending.value)),
        )
        .values(state=OutboxState.cancelled.value)
    )
    walk_rows(session, "outbox_message", mail_ids, traces, by_key=True)
    for mail_id in mail_ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == mail_id)
            .values(recipient=erased_email(mail_id))
        )


def empty_his_list_rows(reach: Reach, traces: Traces) -> None:
    """The customer lists that named him: his cells go, the row's outcome stays."""
    rows = select(BatchRow.id).where(BatchRow.email_key.in_(reach.emails))
    if reach.garage_id is not None:
        rows = rows.where(
            BatchRow.batch_job_id.in_(
                select(BatchJob.id).where(BatchJob.garage_id == reach.garage_id)
            )
        )
    row_ids = list(reach.session.scalars(rows))
    if row_ids:
        walk_rows(reach.session, "batch_row", row_ids, traces, by_key=True)
        rules_on_rows(reach.session, "batch_row", row_ids)


def empty_his_invoices_and_notes(reach: Reach) -> None:
    """His customer number on invoices; the notes on invitations for his cars."""
    if not reach.ids:
        return
    reach.session.execute(
        update(Invoice).where(Invoice.customer_id.in_(reach.ids)).values(customer_number=None)
    )
    reach.session.execute(
        update(InspectionInvitation)
        .where(
            InspectionInvitation.passport_id.in_(reach.owned()),
            InspectionInvitation.note.is_not(None),
        )
        .values(note=ERASED)
    )


def walk_entries_about_him(reach: Reach, traces: Traces, transfers: list[Transfer]) -> None:
    """The audit entries about his rows: every personal field's old and new value."""
    about_him = [("customer", reach.ids), ("transfer", [t.id for t in transfers])]
    if reach.user is not None:
        about_him.append(("user", [reach.user.id]))
    about_him = [(name, records) for name, records in about_him if records]
    if not about_him:
        return
    audit = table_of("audit_log")
    entry_ids = list(
        reach.session.scalars(
            select(audit.c.id).where(
                or_(
                    *(
                        (audit.c.table_name == name) & audit.c.record_id.in_(records)
                        for name, records in about_him
                    )
                )
            )
        )
    )
    if entry_ids:
        walk_rows(reach.session, "audit_log", entry_ids, traces, by_key=True)


def scrub_everywhere(reach: Reach, traces: Traces) -> None:
    """Everywhere else his values may be quoted among others': walked where found, and
    the bytes kept outside any text column."""
    for table_name, columns in REGISTRY.items():
        walked = [name for name, rule in columns.items() if rule == Rule.WALK]
        if walked and table_name != "ab_user":
            scrub_table(reach.session, table_name, walked, traces, reach.garage_id)
    scrub_stored_bytes(reach.session, traces, reach.garage_id)
