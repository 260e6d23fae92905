"""The profile's details (R-PP-1): the car's fields, the owner's contact details, and his
e-mail (R-PP-5, R-PP-7, R-TR-3).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from admin_app.db import count_of
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.domain.plates import validate_plate
from admin_app.models import (
    Customer,
    Passport,
)
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.roles import ADMIN, GARAGE, SUPPORT
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services import vehicle_values
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key, normalize_email
from admin_app.services.passports.actions import EMAIL_LOCKED, email_locked, require
from admin_app.services.passports.claims import DRIVER_CLAIM, OWNER_CLAIM
from admin_app.services.passports.fields import (
    PERSON_FIELDS,
    SOME_FIELDS_WRONG,
    VEHICLE_FIELDS,
    column_length,
    normalize_postcode,
    single_line,
    typed_text,
    vehicle_value,
)
from admin_app.services.passports.lookup import get_passport, lock_passport


def update_passport(session: Session, passport_id: int, data, *, actor: Actor) -> Passport:
    """Change the fields given, from the profile's edit form or API PUT (R-PP-1): the
    vehicle (VEHICLE_FIELDS), the owner's contact details (update_customer), his e-mail
    (R-PP-7, change_customer_email) and the fleet account.

    Refused unless the actor may "edit" the passport (allowed_actions). Every field is
    checked before anything is written, and InvalidInput names each bad one; only fields
    whose value changes are written, so the audit log holds exactly those (old → new).
    The plate is the passport's identity and is not changed here.
    """
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "edit")
    data = data or {}
    vehicle, person_data = checked_changes(passport, data)
    _follow_fleet_choice(session, passport, data, actor=actor)
    if person_data:
        update_customer(session, passport.owner_id, person_data, actor=actor)
    _write_vehicle(session, passport, vehicle)
    session.flush()
    return passport


def checked_changes(passport: Passport, data: dict) -> tuple[dict, dict]:
    """The vehicle's values to store and the owner's fields of ``data``, every one checked
    before anything is written; InvalidInput naming each bad field."""
    errors: dict[str, list] = {}
    if "plate" in data:
        _collect(errors, _keep_plate, passport, data["plate"])
    vehicle = {
        name: _collect(errors, vehicle_value, name, data[name])
        for name in VEHICLE_FIELDS
        if name in data
    }
    person_data = {k: v for k, v in data.items() if k in PERSON_FIELDS}
    if person_data:
        _collect(errors, contact_changes, passport.owner, person_data)
    if "email" in person_data:
        _collect(errors, _checked_email, person_data["email"])
    if errors:
        raise InvalidInput(SOME_FIELDS_WRONG, errors=errors)
    return vehicle, person_data


def _collect(errors: dict, check, *args):
    """``check(*args)``, its InvalidInput's fields added to ``errors`` (then None)."""
    try:
        return check(*args)
    except InvalidInput as error:
        errors.update(error.errors)
        return None


def _keep_plate(passport: Passport, typed) -> None:
    if validate_plate(typed_text(typed)) != passport.plate:
        raise InvalidInput(
            _l("The plate of a passport cannot change; archive it and create a new one."),
            field="plate",
        )


def _checked_email(typed) -> str:
    return normalize_email(
        single_line(typed, field="email", max_length=column_length(Customer, "email"))
    )


def _follow_fleet_choice(session: Session, passport: Passport, data: dict, *, actor: Actor):
    """Link to the fleet account chosen, or unlink (an empty choice), if it changed."""
    if "fleet_account_id" not in data or data["fleet_account_id"] == passport.fleet_account_id:
        return
    from admin_app.services import fleets  # fleets builds on this module

    if data["fleet_account_id"] in (None, "", 0):
        fleets.unlink_passport(session, passport.id, actor=actor)
    else:
        fleets.link_passport(session, passport.id, data["fleet_account_id"], actor=actor)


def _write_vehicle(session: Session, passport: Passport, vehicle: dict) -> None:
    """Only the values that change, so the audit log holds those. A value typed as the
    register has it becomes the register's (issue 18)."""
    vehicle = vehicle_values.untyped_if_registered(session, passport.plate, vehicle)
    for name, value in vehicle.items():
        if getattr(passport, name) != value:
            setattr(passport, name, value)


def cars_of_customer(session: Session, customer_id: int) -> list[tuple[Passport, str]]:
    """The customer's cars in the caller's scope, each with OWNER_CLAIM or DRIVER_CLAIM:
    the live ones first, newest first."""
    cars = session.scalars(
        select(Passport)
        .where(or_(Passport.owner_id == customer_id, Passport.driver_id == customer_id))
        .order_by((Passport.state == PassportState.archived.value), Passport.id.desc())
    ).unique()
    return [(car, OWNER_CLAIM if car.owner_id == customer_id else DRIVER_CLAIM) for car in cars]


def shared_by(session: Session, passport: Passport) -> int:
    """How many live cars carry this passport's owner's details (his name, address,
    phone, customer number): a change on one profile shows on all of them."""
    return count_of(
        session,
        select(func.count(Passport.id)).where(
            or_(Passport.owner_id == passport.owner_id, Passport.driver_id == passport.owner_id),
            Passport.state != PassportState.archived.value,
        ),
    )


def change_owner_email(
    session: Session, passport_id: int, new_email: str, *, actor: Actor
) -> Passport:
    """Correct the owner's e-mail: the garage until activation or transfer, then Support."""
    passport = get_passport(session, passport_id)
    require(session, actor, passport, "email")
    change_customer_email(session, passport.owner_id, new_email, actor=actor)
    return passport


def change_customer_email(
    session: Session, customer_id: int, new_email: str, *, actor: Actor
) -> Customer:
    """R-PP-7 for a customer profile: refused to a garage as soon as any of its
    passports is activated or was transferred; always allowed to Support (audited)."""
    customer = scoped_get(session, Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Not found."))
    email = normalize_email(new_email)
    # Each of the customer's cars locked, so that none is activated or transferred between
    # the check below and the change (R-PP-7); in id order, so two changes of one customer
    # wait for each other instead of deadlocking.
    live = session.scalars(
        select(Passport.id)
        .where(Passport.owner_id == customer.id, Passport.state != PassportState.archived.value)
        .order_by(Passport.id)
    ).all()
    passports = [lock_passport(session, passport_id) for passport_id in live]
    passports = [
        p
        for p in passports
        if p.owner_id == customer.id and p.state != PassportState.archived.value
    ]
    if not actor.has(SUPPORT, ADMIN):
        if not actor.has(GARAGE) or actor.garage_id != customer.garage_id:
            raise Forbidden(_l("You may not do this."))
        if any(email_locked(session, p) for p in passports):
            raise Conflict(EMAIL_LOCKED, field="email")
    if email_key(email) != email_key(customer.email):
        clash = session.scalar(
            select(Customer.id)
            .where(
                Customer.garage_id == customer.garage_id,
                Customer.id != customer.id,
                func.lower(Customer.email) == email_key(email),
            )
            .execution_options(**{ALL_TENANTS: True})
        )
        if clash:
            raise Conflict(
                _l("Another customer of this garage already has this e-mail address."),
                field="email",
            )
    customer.email = email
    customer.email_bounced_at = None
    session.flush()
    return customer


def contact_changes(customer: Customer, data) -> dict:
    """The CONTACT_FIELDS of ``data`` that differ from the customer's, checked and
    normalized; InvalidInput naming every bad field. The e-mail is not among them: it
    follows change_customer_email (R-PP-7)."""
    errors: dict[str, list] = {}
    changes = {}
    for name in CONTACT_FIELDS:
        if name not in (data or {}):
            continue
        try:
            value = single_line(data[name], field=name, max_length=column_length(Customer, name))
            # A postcode stored before this check is kept as it is until someone changes it.
            if name == "postcode" and value != (customer.postcode or ""):
                value = normalize_postcode(value)
        except InvalidInput as error:
            errors.update(error.errors)
            continue
        if name == "last_name" and not value:
            errors["last_name"] = [_l("Fill in the last name.")]
        elif value != (getattr(customer, name) or ""):
            changes[name] = value or None
    if errors:
        raise InvalidInput(SOME_FIELDS_WRONG, errors=errors)
    return changes


def update_customer(session: Session, customer_id: int, data, *, actor: Actor) -> Customer:
    """Contact details of a profile, shared by all the customer's cars at the garage;
    a new e-mail follows change_customer_email. Only changed fields are written."""
    customer = scoped_get(session, Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Not found."))
    changes = contact_changes(customer, data)
    if changes and not actor.has(GARAGE, ADMIN):
        # Support corrects e-mail addresses, nothing else (SPEC roles).
        raise Forbidden(_l("The support desk corrects e-mail addresses only."))
    new_email = typed_text((data or {}).get("email"))
    if "email" in (data or {}) and email_key(new_email) != email_key(customer.email):
        change_customer_email(session, customer.id, data["email"], actor=actor)
    for name, value in changes.items():
        setattr(customer, name, value)
    session.flush()
    return customer


def person_details_of(customer: Customer) -> dict:
    return {name: getattr(customer, name) or "" for name in PERSON_FIELDS}
