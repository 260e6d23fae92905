"""A passport made (R-PP-1, 2, 3, 6), archived, brought back and moved (R-PP-8)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.domain.plates import display_plate, validate_plate
from admin_app.models import (
    FleetAccount,
    Garage,
    Passport,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.roles import ADMIN, GARAGE
from admin_app.scope import scoped_get
from admin_app.services import vehicle_values, webhooks
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key
from admin_app.services.passports.actions import NOT_YOURS, require
from admin_app.services.passports.editing import person_details_of
from admin_app.services.passports.fields import PersonDetails, VehicleDetails
from admin_app.services.passports.lookup import (
    assert_plate_free,
    find_or_create_customer,
    live_passport_with_plate,
    lock_passport,
)

# --- create (R-PP-1, 2, 3, 6) ------------------------------------------------------------


def create_passport(
    session: Session,
    *,
    actor: Actor,
    plate: str,
    person: PersonDetails,
    vehicle: VehicleDetails | None = None,
    fleet_account_id=None,
    via: str = "manual",
) -> Passport:
    """A new passport of the actor's garage.

    With the garage's own login e-mail it is a stock car: activated at once, no mail
    (R-PP-3). Otherwise it waits, unsent, until someone sends it (R-PP-4).
    """
    if not actor.garage_id:
        raise Forbidden(_l("Only a garage creates passports."))
    garage = scoped_get(session, Garage, actor.garage_id)
    stock = email_key(person.email or "") == email_key(garage.email)
    if stock:
        person.last_name = person.last_name or garage.name
    errors: dict[str, list] = {}
    normalized = None
    try:
        normalized = validate_plate(plate)
    except InvalidInput as error:
        errors.update(error.errors)
    try:
        person.validated()
    except InvalidInput as error:
        errors.update(error.errors)
    if errors or normalized is None:
        raise InvalidInput(_l("Some fields are not correct."), errors=errors)
    vehicle = vehicle or VehicleDetails()
    fleet_id = _garage_fleet(session, garage.id, fleet_account_id)
    assert_plate_free(session, normalized, garage_id=garage.id)

    owner = find_or_create_customer(session, garage.id, person)
    passport = Passport(
        garage_id=garage.id,
        plate=normalized,
        owner=owner,
        # Only what was typed and differs from the register (issue 18): the rest is read
        # from the register, which the nightly refresh keeps current.
        **vehicle_values.untyped_if_registered(session, normalized, vehicle.typed()),
        fleet_account_id=fleet_id,
        stock_car=stock,
        created_via=via,
        state=PassportState.activated.value if stock else PassportState.created.value,
        activated_at=utcnow() if stock else None,
    )
    session.add(passport)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Someone registered the plate between our check and this insert.
        raise Conflict(
            _l("%(plate)s already has an active passport.", plate=display_plate(normalized)),
            field="plate",
        ) from None
    webhooks.emit(session, garage.id, "passport.created", lambda: webhooks.passport_data(passport))
    return passport


def _garage_fleet(session: Session, garage_id: int, fleet_account_id) -> int | None:
    if fleet_account_id in (None, "", 0):
        return None
    fleet = scoped_get(session, FleetAccount, int(fleet_account_id))
    if fleet is None or fleet.garage_id != garage_id:
        raise InvalidInput(_l("Choose one of your own fleet accounts."), field="fleet_account_id")
    return fleet.id


# --- archive and move (R-PP-8) -----------------------------------------------------------


def archive_passport(session: Session, passport_id: int, *, actor: Actor) -> Passport:
    """Scrapped, exported or a wrong entry: the plate is free again."""
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "archive")
    from admin_app.services.transfers import settle  # transfers builds on this module

    for transfer in session.scalars(
        select(Transfer).where(
            Transfer.passport_id == passport.id, Transfer.state == TransferState.pending.value
        )
    ):
        settle(transfer, TransferState.cancelled)  # the car goes, and its transfer with it
    passport.state = PassportState.archived.value
    passport.archived_at = utcnow()
    passport.fleet_account_id = None
    session.flush()
    return passport


def unarchive_passport(
    session: Session, passport_id: int, previous_state: str | None, *, actor: Actor
) -> Passport:
    """Undo an archiving (issue 15): the passport is live again in ``previous_state``, if
    its plate is still free (R-PP-8 freed it; another live passport may hold it now).

    A transfer the archiving cancelled stays cancelled: the car comes back as it was
    before that transfer. Its fleet link stays off; the garage links it again if wanted.
    """
    passport = lock_passport(session, passport_id)
    if not actor.has(GARAGE, ADMIN):
        raise Forbidden(NOT_YOURS)
    if passport.state != PassportState.archived.value:
        raise Conflict(_l("This passport is not archived."))
    if live_passport_with_plate(session, passport.plate) is not None:
        raise Conflict(
            _l(
                "Another live passport has plate %(plate)s now.",
                plate=passport.plate_display,
            )
        )
    if previous_state == PassportState.transfer_pending.value:
        previous_state = (
            PassportState.activated.value if passport.activated_at else PassportState.sent.value
        )
    passport.state = previous_state or PassportState.created.value
    passport.archived_at = None
    session.flush()
    return passport


def move_passport(session: Session, passport_id: int, garage_id: int, *, actor: Actor) -> Passport:
    """Admin and Support move a passport to another garage, with its owner and driver."""
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "move")
    target = scoped_get(session, Garage, garage_id)
    if target is None:
        raise InvalidInput(_l("Choose a garage."), field="garage_id")
    if target.id == passport.garage_id:
        raise Conflict(_l("The passport is at this garage already."), field="garage_id")
    passport.owner = find_or_create_customer(
        session, target.id, PersonDetails.from_mapping(person_details_of(passport.owner))
    )
    if passport.driver is not None:
        passport.driver = find_or_create_customer(
            session, target.id, PersonDetails.from_mapping(person_details_of(passport.driver))
        )
    passport.garage_id = target.id
    # A fleet account belongs to the garage that made it.
    passport.fleet_account_id = None
    session.flush()
    return passport
