"""Small factories (issue 20): the few rows a service test needs, in an empty console.

Use with the `empty_world` fixture (tests/conftest.py): `s = empty_world.session`, then
`garage = factories.garage(s)`, `car = factories.passport(s, garage)` … Each function
makes one thing and what it cannot exist without (a passport its owner), with defaults a
test may override by keyword, and commits, as the demo world's rows are committed: a
service that rolls back in the test (a refusal inside `unit_of_work`) keeps them.

Screens, the role matrix and the browser keep the demo world (`world`): they show what a
garage sees on a full day, and their logins are the demo's.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from admin_app.models import ConsoleUser, Customer, FleetAccount, Garage, Passport
from admin_app.models.base import utcnow
from admin_app.roles import ADMIN, FLEET_MANAGER, GARAGE, OWNER
from config import TestingConfig

_numbers = itertools.count(1)
# Side-code 1 (LL-DD-DD) in the letters the register gives out: distinct for a test run.
_PLATE_LETTERS = "BDFGHJKLNPRSTVXZ"


def _next() -> int:
    return next(_numbers)


def plate() -> str:
    """A valid plate no other factory row has (side-code 1, XX-99-99)."""
    number = _next()
    first, second = divmod(number // 10_000, len(_PLATE_LETTERS))
    return (
        _PLATE_LETTERS[first % len(_PLATE_LETTERS)]
        + _PLATE_LETTERS[second]
        + f"{number % 10_000:04d}"
    )


def _saved(session, row):
    session.add(row)
    session.commit()
    # Loaded again, as a row a test looks up is: a change then knows its old value.
    session.refresh(row)
    return row


def garage(session, **fields) -> Garage:
    number = _next()
    values = {
        "name": f"Garage {number}",
        "email": f"werkplaats{number}@garage.example.nl",
        "street": "Industrieweg",
        "house_number": str(number),
        "postcode": "3542 AD",
        "city": "Utrecht",
    }
    return _saved(session, Garage(**(values | fields)))


def customer(session, garage: Garage, **fields) -> Customer:
    number = _next()
    values = {
        "garage_id": garage.id,
        "first_name": "Sanne",
        "last_name": f"Klant {number}",
        "email": f"klant{number}@example.nl",
        "customer_number": str(100_000 + number),
    }
    return _saved(session, Customer(**(values | fields)))


def passport(session, garage: Garage, owner: Customer | None = None, **fields) -> Passport:
    """A car with a passport, activated unless ``state`` says otherwise; its owner a new
    customer of the garage unless given."""
    owner = owner or customer(session, garage)
    state = fields.pop("state", "activated")
    values = {
        "garage_id": garage.id,
        "plate": plate(),
        "brand": "Volkswagen",
        "model": "Golf",
        "fuel": "benzine",
        "odometer": 42_000,
        "owner_id": owner.id,
        "state": state,
    }
    if state in ("sent", "activated", "transfer_pending"):
        values["sent_at"] = utcnow() - timedelta(days=30)
    if state in ("activated", "transfer_pending"):
        values["activated_at"] = utcnow() - timedelta(days=2)
    if state == "archived":
        values["archived_at"] = utcnow() - timedelta(days=1)
    return _saved(session, Passport(**(values | fields)))


def stock_car(session, garage: Garage, **fields) -> Passport:
    """A car of the garage's own stock (R-PP-3): its owner the garage's e-mail address."""
    stock = customer(session, garage, first_name=None, last_name=garage.name, email=garage.email)
    return passport(session, garage, stock, stock_car=True, **fields)


def fleet_account(session, garage: Garage, **fields) -> FleetAccount:
    """A fleet account with its manager's own car (the manager passport) and no cars yet:
    add some with ``passport(s, garage, fleet_account_id=fleet.id, driver_id=…)``."""
    number = _next()
    manager_car = passport(session, garage)
    values = {
        "garage_id": garage.id,
        "name": f"Wagenpark {number}",
        "email": f"wagenpark{number}@bedrijf.example.nl",
        "manager_passport_id": manager_car.id,
    }
    return _saved(session, FleetAccount(**(values | fields)))


def login(
    session,
    role: str,
    *,
    garage: Garage | None = None,
    fleet_account: FleetAccount | None = None,
    password: str | None = None,
    **fields,
) -> ConsoleUser:
    """A console login with one role; a garage's or a fleet manager's tie by keyword."""
    from werkzeug.security import generate_password_hash

    from admin_app.services.accounts import find_role

    number = _next()
    method = TestingConfig.FAB_PASSWORD_HASH_METHOD
    values = {
        "username": f"{role.lower()}-{number}",
        "first_name": "Test",
        "last_name": role,
        "email": f"{role.lower()}{number}@example.nl",
        "active": True,
        "garage_id": garage.id if garage else None,
        "fleet_account_id": fleet_account.id if fleet_account else None,
        # The test config's cheap method: a test that logs in pays no scrypt.
        "password": generate_password_hash(password, method=method) if password else None,
    }
    user = ConsoleUser(**(values | fields))
    user.roles = [find_role(session, role)]
    return _saved(session, user)


def admin_login(session, **fields) -> ConsoleUser:
    return login(session, ADMIN, **fields)


def garage_login(session, garage: Garage, **fields) -> ConsoleUser:
    return login(session, GARAGE, garage=garage, **fields)


def garage_with_staff(
    session,
    name: str = "Autobedrijf Jansen",
    email: str = "werkplaats@autobedrijf-jansen.nl",
    username: str = "garage-jansen",
) -> tuple[Garage, ConsoleUser]:
    """A garage and one staff login, named as the demo's by default, so that a test's
    ``acting_in_empty_world("garage-jansen")`` and its expected texts read as before."""
    made = garage(session, name=name, email=email)
    return made, garage_login(session, made, username=username)


def fleet_manager_login(session, fleet: FleetAccount, **fields) -> ConsoleUser:
    return login(session, FLEET_MANAGER, fleet_account=fleet, **fields)


def owner_login(session, email: str, **fields) -> ConsoleUser:
    return login(session, OWNER, email=email, username=email, **fields)


def transfer(session, car: Passport, email: str, *, kind: str = "owner", actor=None):
    """A transfer started as the garage's staff start one (a known owner's waits for his
    acceptance). It mails, so it runs inside `acting_in_empty_world(...)`."""
    from admin_app.db import unit_of_work
    from admin_app.services import transfers
    from admin_app.services.audit import Actor
    from admin_app.services.passports import PersonDetails

    actor = actor or Actor(None, "factory", roles=frozenset({GARAGE}), garage_id=car.garage_id)
    person = PersonDetails.from_mapping(
        {"email": email, "first_name": "Nieuwe", "last_name": "Eigenaar"}
    )
    with unit_of_work(session, actor):
        started = transfers.start_transfer(session, car.id, actor=actor, person=person, kind=kind)
    return started.transfer
