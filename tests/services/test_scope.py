"""R-SEC-1: one row scope, applied to every ORM statement inside a request."""

import pytest
from flask import g
from sqlalchemy import func, select

from admin_app.domain.errors import NotFound
from admin_app.models import (
    AuditLog,
    ConsoleUser,
    Customer,
    FleetAccount,
    Garage,
    OutboxMessage,
    Passport,
    PassportClaim,
)
from admin_app.scope import bind_request_scope


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


class _Request:
    """A request of its own (fresh app context, so a fresh ``g``) for one user."""

    def __init__(self, app):
        self.app_ctx = app.app_context()
        self.request_ctx = app.test_request_context("/")

    def push(self):
        self.app_ctx.push()
        self.request_ctx.push()

    def pop(self):
        self.request_ctx.pop()
        self.app_ctx.pop()


def _as(app, world, username):
    user_id = world.user(username).id
    ctx = _Request(app)
    ctx.push()
    bind_request_scope(world.session.get(ConsoleUser, user_id))
    return ctx


def test_r_sec_1_garage_sees_only_its_own_rows(app, world):
    jansen = world.garage("Autobedrijf Jansen")
    ctx = _as(app, world, "garage-jansen")
    try:
        session = world.session
        assert {p.garage_id for p in session.scalars(select(Passport))} == {jansen.id}
        assert {c.garage_id for c in session.scalars(select(Customer))} == {jansen.id}
        assert [f.name for f in session.scalars(select(FleetAccount))] == ["Bouwbedrijf Bakker"]
        assert [g_.id for g_ in session.scalars(select(Garage))] == [jansen.id]
        assert {a.garage_id for a in session.scalars(select(AuditLog))} <= {jansen.id}
        assert {m.garage_id for m in session.scalars(select(OutboxMessage))} == {jansen.id}
        users = {u.username for u in session.scalars(select(ConsoleUser))}
        assert users == {"garage-jansen"}
    finally:
        ctx.pop()


def test_r_sec_1_session_get_of_another_garages_row_finds_nothing(app, world):
    devries_passport = world.passports(garage_id=world.garage("Garage De Vries").id)[0]
    world.session.expunge_all()  # no identity-map shortcut: a real load
    ctx = _as(app, world, "garage-jansen")
    try:
        assert world.session.get(Passport, devries_passport.id) is None
    finally:
        ctx.pop()


def test_r_sec_1_fleet_manager_sees_only_his_linked_passports(app, world):
    fleet = world.user("fleet-bakker").fleet_account
    linked = {p.id for p in world.passports(fleet_account_id=fleet.id)}
    assert len(linked) == 5
    ctx = _as(app, world, "fleet-bakker")
    try:
        session = world.session
        assert {p.id for p in session.scalars(select(Passport))} == linked
        assert _count(session, FleetAccount) == 1
        assert _count(session, AuditLog) == 0
        assert _count(session, OutboxMessage) == 0
        # Customers: exactly the owners and drivers of his cars.
        people = {c.id for c in session.scalars(select(Customer))}
        expected = {p.owner_id for p in session.scalars(select(Passport))} | {
            p.driver_id for p in session.scalars(select(Passport))
        }
        assert people == expected
    finally:
        ctx.pop()


def test_r_sec_1_owner_sees_only_his_cars(app, world):
    ctx = _as(app, world, "eigenaar")
    try:
        passports = world.session.scalars(select(Passport)).unique().all()
        assert len(passports) == 2
        assert {p.owner.email for p in passports} == {"eigenaar@example.nl"}
        assert _count(world.session, FleetAccount) == 0
    finally:
        ctx.pop()


def test_r_sec_1_support_and_admin_see_every_garage(app, world):
    for username in ("support", "admin"):
        ctx = _as(app, world, username)
        try:
            assert _count(world.session, Garage) == 2
        finally:
            ctx.pop()


def test_r_sec_1_bulk_update_cannot_touch_another_garage(app, world):
    from sqlalchemy import update

    devries = world.garage("Garage De Vries")
    ctx = _as(app, world, "garage-jansen")
    try:
        result = world.session.execute(
            update(Passport)
            .where(Passport.garage_id == devries.id)
            .values(brand="Hacked")
            .execution_options(synchronize_session=False)
        )
        assert result.rowcount == 0
        world.session.rollback()
    finally:
        ctx.pop()


def test_r_sec_1_a_row_cannot_be_moved_into_another_garage(app, world):
    devries = world.garage("Garage De Vries")
    own = world.passports(garage_id=world.garage("Autobedrijf Jansen").id)[0]
    ctx = _as(app, world, "garage-jansen")
    try:
        passport = world.session.get(Passport, own.id)
        passport.garage_id = devries.id
        with pytest.raises(NotFound):
            world.session.flush()
        world.session.rollback()
    finally:
        ctx.pop()
    assert world.session.get(Passport, own.id).garage_id != devries.id


def test_r_sec_1_a_new_row_gets_the_users_garage(app, world):
    jansen = world.garage("Autobedrijf Jansen")
    ctx = _as(app, world, "garage-jansen")
    try:
        customer = Customer(last_name="Nieuw", email="nieuw@example.nl")
        world.session.add(customer)
        world.session.flush()
        assert customer.garage_id == jansen.id
        world.session.rollback()
    finally:
        ctx.pop()


def test_r_sec_1_jobs_and_cli_run_unscoped(app, world):
    # No request: the system acts on ids it was given.
    assert _count(world.session, Garage) == 2
    assert g is not None


def test_r_sec_1_cached_criteria_never_mix_two_owners(app, world):
    """The criteria are cached SQL; each scope's values must still be its own."""
    from admin_app.services.accounts import create_login

    other = world.passports(garage_id=world.garage("Garage De Vries").id, state="activated")[0]
    second = create_login(
        world.session,
        username="tweede",
        email=other.owner.email,
        first_name="T",
        last_name="Weede",
        role_name="Owner",
    )
    # As activating the passport would.
    world.session.add(PassportClaim(passport_id=other.id, role="owner", user_id=second.id))
    world.session.commit()
    seen = {}
    for username in ("eigenaar", "tweede", "eigenaar"):
        ctx = _as(app, world, username)
        try:
            seen.setdefault(username, []).append(
                {p.id for p in world.session.scalars(select(Passport)).unique()}
            )
        finally:
            ctx.pop()
    assert seen["eigenaar"][0] == seen["eigenaar"][1]
    assert other.id in seen["tweede"][0]
    assert not seen["eigenaar"][0] & seen["tweede"][0]
