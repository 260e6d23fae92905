"""Issue 20: the tests' own fixtures — the demo world fresh for every test however it is
copied back, the demo logins at the test config's hash cost, factories that make only
what they name."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from admin_app.models import AuditLog, ConsoleUser, Customer, FleetAccount, Garage, Passport
from tests import factories
from tests.conftest import DB_KIND, start_from


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_issue20_every_test_starts_from_the_demo_world_as_loaded(app, engine, world):
    """What one test wrote, deleted or changed is gone for the next; on SQLite the roles
    too (the whole file is copied back; a test of the role screens renames one)."""
    from flask_appbuilder.security.sqla.models import Role

    s = world.session
    models = (Garage, Customer, Passport, ConsoleUser, AuditLog)
    before = {model: _count(s, model) for model in models}
    role_names = set(s.scalars(select(Role.name)))
    jansen = world.garage("Autobedrijf Jansen")
    jansen_id, jansen.name = jansen.id, "Gewijzigd"
    s.execute(delete(AuditLog))
    s.add(Customer(garage_id=jansen_id, last_name="Nieuw", email="nieuw@example.nl"))
    if DB_KIND == "sqlite":
        s.scalars(select(Role).where(Role.name == "Support")).one().name = "Hernoemd"
    s.commit()
    s.close()

    start_from(app, engine, "demo")

    assert {model: _count(s, model) for model in models} == before
    assert set(s.scalars(select(Role.name))) == role_names
    assert world.garage("Autobedrijf Jansen").id == jansen_id


def test_issue20_the_demo_logins_are_checked_at_the_test_configs_cost(app, world):
    """A scrypt check costs 0.1-0.2 s; the tests log in some thousand times."""
    method = app.config["FAB_PASSWORD_HASH_METHOD"]
    assert method == "pbkdf2:sha256:1"
    for user in world.session.scalars(select(ConsoleUser).where(ConsoleUser.password.is_not(None))):
        assert user.password.startswith(method + "$"), user.username
        assert check_password_hash(user.password, "demo")


def test_issue20_factories_make_only_what_they_name(empty_world, acting_in_empty_world):
    s = empty_world.session
    assert (_count(s, Garage), _count(s, Passport), _count(s, ConsoleUser)) == (0, 0, 0)
    garage, staff = factories.garage_with_staff(s)
    car = factories.passport(s, garage)
    assert (_count(s, Garage), _count(s, Customer), _count(s, Passport)) == (1, 1, 1)
    assert [user.id for user in s.scalars(select(ConsoleUser))] == [staff.id]
    fleet = factories.fleet_account(s, garage)
    assert _count(s, FleetAccount) == 1 and _count(s, Passport) == 2
    assert car.plate != s.get(Passport, fleet.manager_passport_id).plate
    sold = factories.stock_car(s, garage)
    with acting_in_empty_world(staff) as acting:
        moved = factories.transfer(s, sold, "koper@example.nl", actor=acting.actor)
        assert moved.to_email == "koper@example.nl"
