"""Looking a passport up, and the one lock on it every change of its state takes first
(issue 13); its customers, the platform's Owner logins, its transfers.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.errors import Conflict, NotFound
from admin_app.domain.plates import display_plate
from admin_app.models import (
    ConsoleUser,
    Customer,
    Passport,
    Transfer,
)
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.bulk import is_postgresql
from admin_app.services.emails import email_key
from admin_app.services.passports.fields import PersonDetails


def get_passport(session: Session, passport_id: int) -> Passport:
    """The passport, if the caller's scope holds it; NotFound otherwise (R-SEC-1)."""
    passport = scoped_get(session, Passport, passport_id)
    if passport is None:
        raise NotFound(_l("Not found."))
    return passport


def lock_passport(session: Session, passport_id, *, across_tenants: bool = False) -> Passport:
    """The passport, locked until the transaction ends and read afresh (issue 13, R-TR-5).

    Every rule that changes a passport's state — or its transfers, fleet link or owner —
    calls this first and only then checks the state it depends on: of five requests at
    once one changes the passport and the other four find the changed state (409), instead
    of all five passing their checks on the state they read before any of them wrote.
    NotFound outside the caller's scope; ``across_tenants`` for a caller authorized
    otherwise (a mailed link, a job).

    PostgreSQL: ``SELECT … FOR UPDATE`` on the passport row; a second locker waits for the
    first to commit and then reads the committed row (READ COMMITTED). SQLite has no row
    locks and one writer per database: a no-op UPDATE of the row takes the database's write
    lock at once (as BEGIN IMMEDIATE would), and it is the transaction's first write, so no
    read transaction has to be upgraded (which SQLite refuses while another writer waits).
    The next locker's UPDATE waits in SQLite's busy timeout until the first commits.
    Either way the row count says whether the scope holds the passport, and the passport is
    loaded after the lock with ``populate_existing``: values read before are replaced.
    """
    try:
        ident = int(passport_id)
    except (TypeError, ValueError):
        raise NotFound(_l("Not found.")) from None
    options = {ALL_TENANTS: True} if across_tenants else {}
    if is_postgresql(session):
        held = session.scalar(
            select(Passport.id)
            .where(Passport.id == ident)
            .with_for_update()
            .execution_options(**options)
        )
    else:
        held = changed_rows(
            session.execute(
                update(Passport)
                .where(Passport.id == ident)
                .values(state=Passport.state)
                .execution_options(synchronize_session=False, **options)
            )
        )
    if not held:
        raise NotFound(_l("Not found."))
    if session.identity_map.get(session.identity_key(Passport, ident)) is not None:
        # Loaded before in this session: its values are refreshed, and the lock has just
        # shown the scope holds the row, so the read may skip the scope — which keeps the
        # loader criteria the object was first loaded with (populate_existing under this
        # scope would replace them, and a later refresh would then look for a row that
        # has left the scope, e.g. a car that left its fleet).
        options = {ALL_TENANTS: True}
    return (
        session.scalars(
            select(Passport)
            .where(Passport.id == ident)
            .execution_options(populate_existing=True, **options)
        )
        .unique()
        .one()
    )


def live_passport_with_plate(session: Session, plate: str) -> Passport | None:
    """The live passport with this plate on the whole platform, whoever asks."""
    return session.scalars(
        select(Passport)
        .where(Passport.plate == plate, Passport.state != PassportState.archived.value)
        .execution_options(**{ALL_TENANTS: True})
    ).first()


def assert_plate_free(session: Session, plate: str, *, garage_id: int) -> None:
    """R-PP-8/R-BJ-2: one live passport per plate; another garage is never named."""
    other = live_passport_with_plate(session, plate)
    if other is None:
        return
    if other.garage_id == garage_id:
        raise Conflict(
            _l("%(plate)s already has a passport at your garage.", plate=display_plate(plate)),
            field="plate",
        )
    raise Conflict(
        _l(
            "%(plate)s already has an active passport at another garage. Ask the owner or "
            "support to have it moved.",
            plate=display_plate(plate),
        ),
        field="plate",
    )


def find_or_create_customer(session: Session, garage_id: int, person: PersonDetails) -> Customer:
    """The garage's customer with this e-mail (case-insensitive), or a new one.

    An existing profile keeps what it has; empty fields are filled from ``person``.
    """
    customer = session.scalars(
        select(Customer)
        .where(
            Customer.garage_id == garage_id, func.lower(Customer.email) == email_key(person.email)
        )
        .order_by(Customer.id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if customer is None:
        customer = Customer(garage_id=garage_id, email=person.email)
        session.add(customer)
    for name in CONTACT_FIELDS:
        value = getattr(person, name)
        if value and not getattr(customer, name):
            setattr(customer, name, value)
    return customer


def owner_login(session: Session, email: str) -> ConsoleUser | None:
    """The platform's one Owner login for this e-mail, if there is one."""
    return session.scalars(
        select(ConsoleUser)
        .where(func.lower(ConsoleUser.email) == email_key(email))
        .execution_options(**{ALL_TENANTS: True})
    ).first()


def was_transferred(session: Session, passport: Passport) -> bool:
    return session.execute(
        select(
            exists().where(
                Transfer.passport_id == passport.id,
                Transfer.kind == "owner",
                Transfer.state == TransferState.accepted.value,
            )
        ).execution_options(**{ALL_TENANTS: True})
    ).scalar_one()


def pending_transfer(session: Session, passport: Passport) -> Transfer | None:
    return session.scalars(
        select(Transfer).where(
            Transfer.passport_id == passport.id, Transfer.state == TransferState.pending.value
        )
    ).first()
