"""Erasing a customer or a person (AVG/GDPR, SPEC R-DR-2): plain functions over a session.

Support erases either one garage's customer row (at that garage's request: his login and
his cars at other garages are untouched) or the person (at his own request: every customer
row with his e-mail at every garage, then his Owner login). His values are replaced by the
rules of the registry (services/personal_data) wherever they occur; vehicle facts stay, so
a car's history survives its owner. Everything is flushed in the caller's transaction, so
an erase is all or nothing; a second erase of the same finds nothing left and changes
nothing.

The package: this module asks and refuses (the input, the refusals, the two erases, the
confirm step's preview); ``work`` is the erase itself, one named step per place his values
live; ``scrub`` the rewriting those steps share (by the registry's rules, by walking free
text and JSON, in stored bytes).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_datetime
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.domain.plates import display_plate
from admin_app.models import (
    BatchJob,
    BatchRow,
    ConsoleUser,
    Customer,
    Erasure,
    FleetAccount,
    Garage,
    Passport,
    PassportState,
    Transfer,
    TransferState,
)
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.roles import OWNER, SUPPORT
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.emails import email_key
from admin_app.services.erasure.scrub import text_of
from admin_app.services.erasure.work import erase_rows
from admin_app.services.personal_data import ERASED_DOMAIN

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
    if errors or text is None or day is None:
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
        if any(key and key in text_of(upload).lower() for key in keys)
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
    erase_rows(session, [customer], user=None, garage_id=customer.garage_id)
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
    erase_rows(session, customers, user=user, garage_id=None)
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
