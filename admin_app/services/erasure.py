"""Erasing a customer or a person (AVG/GDPR, SPEC R-DR-2): plain functions over a session.

Support erases either one garage's customer row (at that garage's request: his login and
his cars at other garages are untouched) or the person (at his own request: every customer
row with his e-mail at every garage, then his Owner login). His values are replaced by the
rules of the registry (services/personal_data) wherever they occur; vehicle facts stay, so
a car's history survives its owner. Everything is flushed in the caller's transaction, so
an erase is all or nothing; a second erase of the same finds nothing left and changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_datetime
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.domain.plates import display_plate
from admin_app.models import (
    AccessToken,
    ApiKey,
    BatchJob,
    BatchRow,
    ConsoleUser,
    Customer,
    Erasure,
    ExportFile,
    FleetAccount,
    Garage,
    IdempotencyKey,
    InspectionForm,
    InspectionInvitation,
    Invoice,
    OutboxMessage,
    Passport,
    PassportClaim,
    PassportState,
    Transfer,
    TransferState,
)
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.models.outbox import OutboxState
from admin_app.roles import OWNER, SUPPORT
from admin_app.scope import parent_of
from admin_app.services import data_exports
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.emails import email_key
from admin_app.services.inspections import FORM_LINK
from admin_app.services.passports import ACTIVATION, DRIVER_ACCESS
from admin_app.services.personal_data import (
    ERASED,
    ERASED_DOMAIN,
    REGISTRY,
    Rule,
    Traces,
    erased_email,
    walk,
)
from admin_app.services.proposals import OPT_OUT
from admin_app.services.transfers import ACCEPT

CUSTOMER, PERSON = "customer", "person"
REASON_LENGTH = 500
# Only YYYY-MM-DD: Python's fromisoformat also reads an ISO week ("2026-W49-1") and the
# basic form ("20261201"), which Support never means; a year before 1900 is a typing error.
PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Batch jobs that will still write customers: erasing him now would bring him back.
BATCH_NOT_YET_RUN = (
    BatchState.previewing.value,
    BatchState.preview.value,
    BatchState.scheduled.value,
    BatchState.running.value,
)
# The audit log names each table its own way (services/audit.AUDITED).
AUDIT_NAMES = {"customer": "customer", "transfer": "transfer", "ab_user": "user"}


@dataclass
class ErasureResult:
    erasure: Erasure | None  # None: nothing was left to erase (an erase done before)
    customers: list[Customer] = field(default_factory=list)


def is_erased(customer: Customer) -> bool:
    return (customer.email or "").lower().endswith("@" + ERASED_DOMAIN)


# --- input ----------------------------------------------------------------------------------


def parse_request(reason, requested_on, *, today: dt.date) -> tuple[str, dt.date]:
    """The reason and request date as Support gives them; InvalidInput names the field."""
    errors: dict[str, list] = {}
    text = reason.strip() if isinstance(reason, str) else None
    if not text:
        errors["reason"] = [_l("Give the reason for the erase (the customer's request).")]
    elif "\x00" in text or len(text) > REASON_LENGTH:
        errors["reason"] = [
            _l("The reason may be at most %(count)d characters of text.", count=REASON_LENGTH)
        ]
    day = None
    if isinstance(requested_on, dt.date):
        day = requested_on
    elif isinstance(requested_on, str) and PLAIN_DATE.fullmatch(requested_on.strip()):
        try:
            day = dt.date.fromisoformat(requested_on.strip())
        except ValueError:
            day = None
    if day is None or day.year < 1900:
        errors["requested_on"] = [_l("Give the date of the request, such as 2026-12-01.")]
    elif day > today:
        errors["requested_on"] = [_l("The date of the request cannot be in the future.")]
    if errors:
        raise InvalidInput(_l("The erase could not be started."), errors=errors)
    return text, day


# --- refusals -------------------------------------------------------------------------------


def refusal(session: Session, customers: list[Customer]) -> str | None:
    """Why these customer rows may not be erased now, or None."""
    ids = [c.id for c in customers]
    if not ids:
        return None
    pending = set(
        session.scalars(
            select(Passport.plate)
            .join(Transfer, Transfer.passport_id == Passport.id)
            .where(
                Transfer.state == TransferState.pending.value,
                or_(Transfer.from_customer_id.in_(ids), Transfer.to_customer_id.in_(ids)),
            )
        )
    ) | set(
        session.scalars(
            select(Passport.plate).where(
                Passport.owner_id.in_(ids), Passport.state == PassportState.transfer_pending.value
            )
        )
    )
    if pending:
        # Which car: it may be at another garage than the page Support reads this on.
        return _l(
            "The customer owns or is receiving a car with a pending transfer (%(plates)s): "
            "cancel or finish the transfer first.",
            plates=", ".join(sorted(display_plate(plate) for plate in pending)),
        )
    managed = (
        select(FleetAccount.id)
        .join(Passport, Passport.id == FleetAccount.manager_passport_id)
        .where(Passport.owner_id.in_(ids))
    )
    fleets = session.scalars(
        select(FleetAccount.name)
        .where(
            FleetAccount.id.in_(managed),
            select(Passport.id).where(Passport.fleet_account_id == FleetAccount.id).exists(),
        )
        .order_by(FleetAccount.name)
    ).all()
    if fleets:
        return _l(
            "The customer manages a fleet account that still has cars (%(fleets)s): give "
            "the fleet another manager or unlink its cars first.",
            fleets=", ".join(fleets),
        )
    keys = {email_key(c.email) for c in customers}
    garages = {c.garage_id for c in customers}
    with_rows = select(BatchRow.batch_job_id).where(BatchRow.email_key.in_(keys))
    lists = set(
        session.scalars(
            select(BatchJob.id).where(
                BatchJob.id.in_(with_rows),
                BatchJob.garage_id.in_(garages),
                BatchJob.state.in_(BATCH_NOT_YET_RUN),
            )
        )
    ) | _lists_being_read_naming(session, keys, garages)
    if lists:
        # Which list, at which garage: Support cannot run or cancel a garage's list, it
        # asks the garage to (or waits: retention cancels a list never confirmed).
        named = session.execute(
            select(BatchJob.filename, BatchJob.uploaded_at, Garage.name)
            .join(Garage, Garage.id == BatchJob.garage_id)
            .where(BatchJob.id.in_(lists))
            .order_by(BatchJob.id)
        ).all()
        return _l(
            "The customer is named on a customer list that has not run yet (%(lists)s): "
            "the garage runs or cancels it first. A list never confirmed is cancelled "
            "after %(days)d days.",
            lists="; ".join(
                f"{name}, {garage}, {local_datetime(uploaded)}" for name, uploaded, garage in named
            ),
            days=_unconfirmed_list_days(),
        )
    return None


def _unconfirmed_list_days() -> int:
    from flask import current_app, has_app_context

    from admin_app.services.retention import UNCONFIRMED_LIST_DAYS

    if not has_app_context():  # a script's or test's session: the setting's default
        return UNCONFIRMED_LIST_DAYS
    return current_app.config["UNCONFIRMED_LIST_DAYS"]


def _lists_being_read_naming(session: Session, keys: set[str], garages: set[int]) -> set[int]:
    """A large list the worker is still reading has no rows yet, only its uploaded file:
    an address of his in it would come back with the list once confirmed."""
    uploads = session.execute(
        select(BatchJob.id, BatchJob.upload).where(
            BatchJob.garage_id.in_(garages),
            BatchJob.state == BatchState.previewing.value,
            BatchJob.upload.is_not(None),
        )
    )
    return {
        job_id
        for job_id, upload in uploads
        if any(key and key in _text_of(upload).lower() for key in keys)
    }


SUPPORT_ONLY = _l("Only the support desk erases customers.")


def _require_support(actor: Actor) -> None:
    if not actor.has(SUPPORT):
        raise Forbidden(SUPPORT_ONLY)


# --- the two erases -------------------------------------------------------------------------


def erase_customer(
    session: Session, actor: Actor, customer: Customer, reason: str, requested_on: dt.date
) -> ErasureResult:
    """One garage's customer row, at that garage's request (R-DR-2)."""
    _require_support(actor)
    # Locked first: of two erases at once (two Support clicks), the second waits and
    # then finds him erased. SQLite has one writer and needs no lock.
    session.refresh(customer, with_for_update=True)
    if is_erased(customer):
        return ErasureResult(None, [customer])
    _refuse_if_needed(session, [customer])
    _erase(session, [customer], user=None, garage_id=customer.garage_id)
    erasure = _record(
        session, actor, CUSTOMER, reason, requested_on, customer=customer, count=1, user=None
    )
    return ErasureResult(erasure, [customer])


def erase_person(
    session: Session, actor: Actor, email: str, reason: str, requested_on: dt.date
) -> ErasureResult:
    """The person at his own request: every customer row with his e-mail at every garage,
    then his Owner login (R-DR-2)."""
    _require_support(actor)
    key = email_key(email or "")
    # Locked (see erase_customer): a second erase at once waits, and PostgreSQL then
    # reads these rows again, which no longer have his address.
    customers = list(
        session.scalars(
            select(Customer)
            .where(func.lower(Customer.email) == key)
            .order_by(Customer.id)
            .with_for_update()
        )
    )
    user = session.scalar(
        select(ConsoleUser).where(func.lower(ConsoleUser.email) == key).with_for_update()
    )
    if user is not None and not _is_owner_login(user):
        user = None  # a staff login is an employee's, not the customer's to erase
    if not customers and user is None:
        return ErasureResult(None, [])
    _refuse_if_needed(session, customers)
    _erase(session, customers, user=user, garage_id=None)
    erasure = _record(
        session,
        actor,
        PERSON,
        reason,
        requested_on,
        customer=customers[0] if customers else None,
        count=len(customers),
        user=user,
    )
    return ErasureResult(erasure, customers)


def _is_owner_login(user: ConsoleUser) -> bool:
    names = {role.name for role in user.roles}
    return names <= {OWNER} and OWNER in names


def _refuse_if_needed(session: Session, customers: list[Customer]) -> None:
    reason = refusal(session, customers)
    if reason:
        raise Conflict(reason)


def _record(session, actor, scope, reason, requested_on, *, customer, count, user) -> Erasure:
    erasure = Erasure(
        scope=scope,
        customer_id=customer.id if customer else None,
        garage_id=customer.garage_id if customer and scope == CUSTOMER else None,
        user_id=user.id if user else None,
        customers=count,
        requested_on=requested_on,
        reason=reason,
        erased_by_id=actor.id,
        erased_by=actor.name,
        erased_at=utcnow(),
    )
    session.add(erasure)
    session.flush()
    # The erase itself in the audit log, as the confirm step says: logged after the scrub,
    # so it is the one entry of the erase that keeps its values (none of them his).
    record_bulk(
        session,
        actor,
        "erasure",
        [
            (
                "insert",
                erasure.id,
                {
                    "scope": (None, scope),
                    "customer_id": (None, erasure.customer_id),
                    "customers": (None, count),
                    "requested_on": (None, requested_on),
                    "reason": (None, reason),
                },
            )
        ],
        garage_id=erasure.garage_id,
    )
    return erasure


# --- the work -------------------------------------------------------------------------------


def _traces(customers: list[Customer], user: ConsoleUser | None) -> Traces:
    """His values as they may be quoted elsewhere. A bare last name is left out: garages
    carry surnames too ("Autobedrijf Jansen"), and a mail to their customers names them.
    Nor a bare street or postcode: a street holds many customers, a postcode a dozen
    houses, and their addresses are not his (an object naming him loses its street and
    postcode by their keys, personal_data.walk)."""
    values: list[str | None] = []
    for c in customers:
        # Not his customer number alone: it is one garage's key, and another garage's
        # customer may have the same one (an object naming him loses it by its key).
        values += [c.email, *_phone_forms(c.phone)]
        if c.first_name:
            values += [c.full_name, f"{c.first_name} {c.last_name}"]
        if c.street and c.house_number:
            values.append(f"{c.street} {c.house_number}")
        if c.postcode and c.house_number:
            compact = c.postcode.replace(" ", "")
            for postcode in {c.postcode, compact, f"{compact[:4]} {compact[4:]}"}:
                values += [f"{postcode} {c.house_number}", f"{postcode}-{c.house_number}"]
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


def _phone_forms(phone: str | None) -> list[str]:
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


def _erase(session: Session, customers, *, user, garage_id: int | None) -> None:
    traces = _traces(customers, user)
    ids = [c.id for c in customers]
    emails = {email_key(c.email) for c in customers} | ({email_key(user.email)} if user else set())
    now = utcnow()

    # His cars at the erased garage(s): archived, "zonder eigenaar" — the owner row they
    # point at (owner_id may not be empty) reads "verwijderd" now. Cars he drives lose him.
    owned = list(
        session.scalars(
            select(Passport).where(
                Passport.owner_id.in_(ids), Passport.state != PassportState.archived.value
            )
        )
    )
    for passport in owned:
        passport.state = PassportState.archived.value
        passport.archived_at = now
        passport.fleet_account_id = None
    driven = list(session.scalars(select(Passport).where(Passport.driver_id.in_(ids))))
    for passport in driven:
        passport.driver_id = None
    data_exports.forget_exports_about(session, ids, user.id if user else None, now)
    all_owned = select(Passport.id).where(Passport.owner_id.in_(ids))
    session.execute(
        delete(PassportClaim).where(
            or_(
                (PassportClaim.passport_id.in_(all_owned)) & (PassportClaim.role == "owner"),
                PassportClaim.passport_id.in_([p.id for p in driven])
                & (PassportClaim.role == "driver"),
            )
        )
    )

    for customer in customers:
        _by_rules(customer, "customer")
    transfers = list(session.scalars(select(Transfer).where(Transfer.to_customer_id.in_(ids))))
    for transfer in transfers:
        _by_rules(transfer, "transfer", only=("to_email", "to_name"))
    if user is not None:
        _by_rules(user, "ab_user")
        user.active = False
        user.session_generation = (user.session_generation or 0) + 1  # ends his sessions
        session.execute(delete(PassportClaim).where(PassportClaim.user_id == user.id))
        session.execute(
            delete(AccessToken).where(
                or_(AccessToken.user_id == user.id, func.lower(AccessToken.recipient).in_(emails))
            )
        )
        for table, column in (("audit_log", "actor_name"), ("transfer", "created_by")):
            model = _table(session, table)
            actor_column = model.c.actor_id if table == "audit_log" else model.c.created_by_id
            session.execute(update(model).where(actor_column == user.id).values({column: ERASED}))
        exports = _table(session, "export_file")
        session.execute(
            update(exports).where(exports.c.user_id == user.id).values(user_name=ERASED)
        )
    if garage_id is None:
        # A self-registration FAB kept under his address (unused here, but a table of his).
        registrations = _table(session, "ab_register_user")
        registered = list(
            session.scalars(
                select(registrations.c.id).where(func.lower(registrations.c.email).in_(emails))
            )
        )
        if registered:
            _rules_on_rows(session, "ab_register_user", registered)
    # The links mailed to him about what is erased here (his login's other links stay in a
    # customer's erase): each purpose names its subject by another table's id.
    subjects = {
        ACTIVATION: all_owned,
        DRIVER_ACCESS: ids,
        OPT_OUT: ids,
        ACCEPT: [t.id for t in transfers],
        FORM_LINK: select(InspectionForm.id).where(InspectionForm.passport_id.in_(all_owned)),
    }
    session.execute(
        delete(AccessToken).where(
            func.lower(AccessToken.recipient).in_(emails),
            or_(
                *(
                    (AccessToken.purpose == purpose) & AccessToken.subject_id.in_(subject)
                    for purpose, subject in subjects.items()
                )
            ),
        )
    )
    session.flush()  # the audit log now holds these changes, with his old values in them

    in_garage = (lambda column: column == garage_id) if garage_id is not None else None

    # Mails to him: the row stays (kind, state, when); one not sent yet is never sent.
    to_him = select(OutboxMessage.id).where(func.lower(OutboxMessage.recipient).in_(emails))
    if in_garage:
        to_him = to_him.where(in_garage(OutboxMessage.garage_id))
    mail_ids = list(session.scalars(to_him))
    if mail_ids:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(mail_ids),
                OutboxMessage.state.in_((OutboxState.pending.value, OutboxState.sending.value)),
            )
            .values(state=OutboxState.cancelled.value)
        )
        _walk_rows(session, "outbox_message", mail_ids, traces, by_key=True)
        for mail_id in mail_ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mail_id)
                .values(recipient=erased_email(mail_id))
            )

    # The customer lists that named him: his cells go, the row's outcome stays.
    rows = select(BatchRow.id).where(BatchRow.email_key.in_(emails))
    if in_garage:
        rows = rows.where(
            BatchRow.batch_job_id.in_(select(BatchJob.id).where(in_garage(BatchJob.garage_id)))
        )
    row_ids = list(session.scalars(rows))
    if row_ids:
        _walk_rows(session, "batch_row", row_ids, traces, by_key=True)
        _rules_on_rows(session, "batch_row", row_ids)

    if ids:
        session.execute(
            update(Invoice).where(Invoice.customer_id.in_(ids)).values(customer_number=None)
        )
        session.execute(
            update(InspectionInvitation)
            .where(
                InspectionInvitation.passport_id.in_(all_owned),
                InspectionInvitation.note.is_not(None),
            )
            .values(note=ERASED)
        )

    # The audit entries about his rows: every personal field's old and new value.
    audit = _table(session, "audit_log")
    about_him = [("customer", ids), ("transfer", [t.id for t in transfers])]
    if user is not None:
        about_him.append(("user", [user.id]))
    entry_ids = (
        list(
            session.scalars(
                select(audit.c.id).where(
                    or_(
                        *(
                            (audit.c.table_name == name) & audit.c.record_id.in_(records)
                            for name, records in about_him
                            if records
                        )
                    )
                )
            )
        )
        if ids or user is not None
        else []
    )
    if entry_ids:
        _walk_rows(session, "audit_log", entry_ids, traces, by_key=True)

    # Everywhere else his values may be quoted among others': walked where found.
    if traces:
        for table_name, columns in REGISTRY.items():
            walked = [name for name, rule in columns.items() if rule == Rule.WALK]
            if not walked or table_name in ("ab_user",):
                continue
            _scrub_table(session, table_name, walked, traces, garage_id)
        _scrub_stored_bytes(session, traces, garage_id)
    session.flush()


def _scrub_stored_bytes(session: Session, traces: Traces, garage_id: int | None) -> None:
    """The bytes that quote him outside any text column: a list export's file (kept 24 h,
    its rows his name and address) loses its file, as when it expires; an API answer kept
    for its Idempotency-Key is walked like any JSON (a replay then names nobody)."""
    now = utcnow()
    files = select(ExportFile.id).where(ExportFile.data.is_not(None))
    if garage_id is not None:
        files = files.where(ExportFile.garage_id == garage_id)
    # One file in memory at a time: a day's exports of 100,000 rows each are large.
    for file_id in session.scalars(files).all():
        data = session.scalar(select(ExportFile.data).where(ExportFile.id == file_id))
        if data and traces.found_in(_text_of(data)):
            session.execute(
                update(ExportFile).where(ExportFile.id == file_id).values(data=None, expires_at=now)
            )
    answers = select(IdempotencyKey.id, IdempotencyKey.body).where(IdempotencyKey.body.is_not(None))
    if garage_id is not None:
        answers = answers.where(
            or_(
                IdempotencyKey.user_id.in_(
                    select(ConsoleUser.id).where(ConsoleUser.garage_id == garage_id)
                ),
                IdempotencyKey.api_key_id.in_(
                    select(ApiKey.id).where(ApiKey.garage_id == garage_id)
                ),
            )
        )
    for key_id, body in session.execute(answers).all():
        text = _text_of(body)
        try:
            answer = json.loads(text)
        except ValueError:
            if traces.found_in(text):  # not JSON: nothing of it can be kept
                session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id))
            continue
        walked = walk(answer, traces, by_key=False)
        if walked != answer:
            session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == key_id)
                .values(body=json.dumps(walked).encode())
            )


def _text_of(data: bytes) -> str:
    """A stored file's words: an XLSX (a zip) unzipped, anything else decoded."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return " ".join(
                    archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                )
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "replace")


def _by_rules(obj, table_name: str, only: tuple[str, ...] | None = None) -> None:
    """An ORM row anonymized column by column by the registry (so the change is audited)."""
    for name, rule in REGISTRY[table_name].items():
        if only and name not in only:
            continue
        value = getattr(obj, name, None)
        if value is None:
            continue
        if rule == Rule.TEXT:
            setattr(obj, name, ERASED)
        elif rule == Rule.NULL:
            setattr(obj, name, None)
        elif rule == Rule.EMAIL:
            setattr(obj, name, erased_email(obj.id))


def _table(session: Session, name: str):
    from flask_appbuilder import Model

    return Model.metadata.tables[name]


def _rules_on_rows(session: Session, table_name: str, row_ids: list[int]) -> None:
    table = _table(session, table_name)
    plain = {}
    for name, rule in REGISTRY[table_name].items():
        if rule == Rule.TEXT:
            plain[name] = ERASED
        elif rule == Rule.NULL:
            plain[name] = None
    if plain:
        session.execute(update(table).where(table.c.id.in_(row_ids)).values(plain))
    for name in (n for n, rule in REGISTRY[table_name].items() if rule == Rule.EMAIL):
        for row_id in row_ids:
            session.execute(
                update(table).where(table.c.id == row_id).values({name: erased_email(row_id)})
            )


def _walk_rows(session: Session, table_name: str, row_ids, traces: Traces, *, by_key: bool):
    columns = [n for n, rule in REGISTRY[table_name].items() if rule == Rule.WALK]
    table = _table(session, table_name)
    for chunk in _chunks(list(row_ids)):
        for row in session.execute(
            select(table.c.id, *(table.c[n] for n in columns)).where(table.c.id.in_(chunk))
        ):
            _rewrite(session, table, row, columns, traces, by_key=by_key)


def _rewrite(session, table, row, columns, traces, *, by_key: bool) -> None:
    values = {}
    for name in columns:
        old = row._mapping[name]
        new = walk(old, traces, by_key=by_key)
        if new != old:
            values[name] = new
    if values:
        session.execute(update(table).where(table.c.id == row.id).values(values))


def _scrub_table(session, table_name, columns, traces: Traces, garage_id) -> None:
    """Rows of ``table_name`` whose walked columns quote one of his values, found in SQL
    (lowercased text, JSON as stored: its non-ASCII escaped) and rewritten in Python."""
    table = _table(session, table_name)
    found = []
    for name in columns:
        text = func.lower(cast(table.c[name], Text))
        for value in traces.values:
            found.append(text.contains(value, autoescape=True))
            escaped = json.dumps(value)[1:-1]
            if escaped != value:
                found.append(text.contains(escaped, autoescape=True))
    query = select(table.c.id, *(table.c[n] for n in columns)).where(or_(*found))
    if garage_id is not None:
        scope = _garage_scope(table, garage_id)
        if scope is None:
            return  # a table of no garage: left to the person's erase
        query = query.where(scope)
    for row in session.execute(query).all():
        _rewrite(session, table, row, columns, traces, by_key=False)


def _garage_scope(table, garage_id):
    if "garage_id" in table.c:
        return table.c.garage_id == garage_id
    through = parent_of(table.name)  # the scope's one list of children of a scoped parent
    if through is not None:
        column, parent = through
        return table.c[column].in_(select(parent.id).where(parent.garage_id == garage_id))
    return None


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Support's screen -----------------------------------------------------------------------


@dataclass
class Preview:
    """What an erase will do, for the confirm step: counted, refused or not."""

    which: str
    customers: int
    garages: int
    cars_archived: int
    cars_driven: int
    login: bool
    refused: str | None


def rows_of(session: Session, customer: Customer, which: str) -> tuple[list[Customer], object]:
    """The customer rows and login an erase of ``which`` reaches from this customer."""
    if which != PERSON:
        return [customer], None
    key = email_key(customer.email or "")
    rows = list(session.scalars(select(Customer).where(func.lower(Customer.email) == key)))
    login = session.scalar(select(ConsoleUser).where(func.lower(ConsoleUser.email) == key))
    return rows, login if login is not None and _is_owner_login(login) else None


def preview(session: Session, customer: Customer, which: str) -> Preview:
    rows, login = rows_of(session, customer, which)
    ids = [c.id for c in rows]
    return Preview(
        which=which,
        customers=len(rows),
        garages=len({c.garage_id for c in rows}),
        cars_archived=session.scalar(
            select(func.count(Passport.id)).where(
                Passport.owner_id.in_(ids), Passport.state != PassportState.archived.value
            )
        )
        or 0,
        cars_driven=session.scalar(
            select(func.count(Passport.id)).where(Passport.driver_id.in_(ids))
        )
        or 0,
        login=login is not None,
        refused=refusal(session, rows),
    )


def erase_as_asked(
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    which: str,
    reason,
    requested_on,
    today: dt.date,
) -> ErasureResult:
    """The screen's and the API's one entry: input checked, then the erase asked for."""
    _require_support(actor)
    reason, requested_on = parse_request(reason, requested_on, today=today)
    if which == PERSON:
        return erase_person(session, actor, customer.email, reason, requested_on)
    return erase_customer(session, actor, customer, reason, requested_on)
