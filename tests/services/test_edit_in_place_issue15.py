"""Issue 15, edit in place (R-PP-1, R-PP-7): one rule, update_passport, changes the car and
its owner's details for the profile and the API alike."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import AuditLog, Customer, Passport
from admin_app.services import passports as rules


def a_car(world, **filters) -> Passport:
    jansen = world.garage("Autobedrijf Jansen").id
    return next(
        p
        for p in world.passports(garage_id=jansen, **filters)
        if not p.stock_car and not p.fleet_account_id
    )


def update(world, acting, passport_id, data):
    with unit_of_work(world.session):
        return rules.update_passport(world.session, passport_id, data, actor=acting.actor)


def audit_of(world, table, record_id):
    world.session.expire_all()
    return world.session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == table, AuditLog.record_id == record_id)
        .order_by(AuditLog.id.desc())
    ).all()


def test_issue15_every_profile_field_is_changed_and_audited_old_to_new(acting_as, world):
    """R-PP-1: vehicle and owner fields, written and logged per field (old → new)."""
    car = a_car(world, state="created")
    old_model, old_phone = car.model, car.owner.phone
    with acting_as("garage-jansen") as acting:
        update(
            world,
            acting,
            car.id,
            {
                "brand": "Saab",
                "model": "9-3",
                "fuel": "diesel",
                "first_registration": "01-02-2015",
                "apk_expiry": "2027-03-04",
                "next_service": "5-6-2027",
                "mobility_renewal": "2027-07-08",
                "odometer": "168.702 km",
                "first_name": "Piet",
                "infix": "van",
                "last_name": "Dam",
                "street": "Kerkstraat",
                "house_number": "12a",
                "postcode": "1234ab",
                "city": "Utrecht",
                "phone": "06-12345678",
                "customer_number": "K-991",
            },
        )
    world.session.expire_all()
    car = world.session.get(Passport, car.id)
    assert (car.brand, car.model, car.fuel, car.odometer) == ("Saab", "9-3", "diesel", 168702)
    assert car.first_registration == dt.date(2015, 2, 1)
    assert (car.apk_expiry, car.next_service, car.mobility_renewal) == (
        dt.date(2027, 3, 4),
        dt.date(2027, 6, 5),
        dt.date(2027, 7, 8),
    )
    owner = car.owner
    assert (owner.full_name, owner.postcode, owner.phone) == (
        "Piet van Dam",
        "1234 AB",
        "06-12345678",
    )
    passport_log = audit_of(world, "passport", car.id)[0]
    assert passport_log.actor_name == "garage-jansen"
    assert passport_log.changes["model"] == [old_model, "9-3"]
    assert passport_log.changes["odometer"][1] == 168702
    customer_log = audit_of(world, "customer", owner.id)[0]
    assert customer_log.changes["phone"] == [old_phone, "06-12345678"]


def test_issue15_only_changed_fields_are_written(acting_as, world):
    """Same values again: no update, no audit entry; one change: only that field logged."""
    car = a_car(world, state="sent")
    same = {"brand": car.brand, "model": car.model, "last_name": car.owner.last_name}
    with acting_as("garage-jansen") as acting:
        before = len(audit_of(world, "passport", car.id)) + len(
            audit_of(world, "customer", car.owner_id)
        )
        update(world, acting, car.id, same)
        after = len(audit_of(world, "passport", car.id)) + len(
            audit_of(world, "customer", car.owner_id)
        )
        assert after == before
        update(world, acting, car.id, {**same, "model": "Anders"})
    entry = audit_of(world, "passport", car.id)[0]
    assert set(entry.changes) == {"model"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("apk_expiry", "31-02-2027"),
        ("first_registration", "gisteren"),
        ("next_service", 20270101),
        ("mobility_renewal", "0001-01-01"),
        ("odometer", "12k"),
        ("odometer", "-5"),
        ("odometer", 12.5),
        ("odometer", "99999999"),
        ("postcode", "12345"),
        ("brand", "Saab\x00"),
        ("model", ["Golf"]),
        ("phone", "0" * 100_000),
        ("last_name", ""),
        ("email", "piet@"),
    ],
)
def test_issue15_a_bad_field_is_refused_by_name_and_nothing_is_written(
    acting_as, world, field, value
):
    """R-PP-1: every bad field named, with the good ones in the same request unwritten."""
    car = a_car(world, state="created")
    before = (car.brand, car.model, car.owner.phone)
    with acting_as("garage-jansen") as acting, pytest.raises(InvalidInput) as refused:
        update(world, acting, car.id, {"model": "Nieuw", "phone": "0612", field: value})
    assert field in refused.value.errors
    world.session.expire_all()
    car = world.session.get(Passport, car.id)
    assert (car.brand, car.model, car.owner.phone) == before


def test_issue15_every_bad_field_is_named_at_once(acting_as, world):
    car = a_car(world, state="created")
    with acting_as("garage-jansen") as acting, pytest.raises(InvalidInput) as refused:
        update(world, acting, car.id, {"apk_expiry": "x", "odometer": "12k", "postcode": "AB"})
    assert set(refused.value.errors) == {"apk_expiry", "odometer", "postcode"}
    assert "12k" in str(refused.value.errors["odometer"][0])


def test_issue15_a_postcode_stored_before_the_check_is_kept_until_changed(acting_as, world):
    """An old, odd postcode does not block changing the phone number."""
    car = a_car(world, state="created")
    with acting_as("garage-jansen") as acting:
        world.session.get(Customer, car.owner_id).postcode = "B-1000"
        world.session.commit()
    with acting_as("garage-jansen") as acting:
        update(world, acting, car.id, {"postcode": "B-1000", "phone": "0612"})
    world.session.expire_all()
    assert world.session.get(Customer, car.owner_id).phone == "0612"


@pytest.mark.parametrize("username", ["support", "fleet-bakker", "eigenaar", "garage-devries"])
def test_issue15_who_may_not_edit_is_refused(acting_as, world, username):
    """R-PP-1 and SPEC's roles: the garage of the passport and Admin edit; Support
    corrects e-mail addresses only; fleet managers and owners read."""
    fleet = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet)[0]
    with acting_as(username) as acting:
        passport = world.session.get(Passport, car.id)
        refusal = (
            rules.refusal_of(world.session, acting.actor, passport, "edit") if passport else None
        )
        assert passport is None or refusal is not None
        with pytest.raises((Forbidden, NotFound)):
            update(world, acting, car.id, {"model": "X"})


def test_issue15_admin_edits_and_an_archived_passport_is_not_edited(acting_as, world):
    car = a_car(world, state="created")
    archived = a_car(world, state="archived")
    with acting_as("admin") as acting:
        update(world, acting, car.id, {"model": "Door beheer"})
        assert rules.refusal_of(world.session, acting.actor, archived, "edit") is not None
        with pytest.raises(Conflict):
            update(world, acting, archived.id, {"model": "X"})


def test_issue15_r_pp_7_the_email_keeps_its_own_rule(acting_as, world):
    """An activated passport's e-mail is refused to the garage, by PUT as before."""
    car = a_car(world, state="activated")
    with acting_as("garage-jansen") as acting, pytest.raises(Conflict) as refused:
        update(world, acting, car.id, {"email": "ander@example.nl", "model": "X"})
    assert "email" in refused.value.errors


def test_issue15_cars_of_a_customer_count_for_the_shared_details(acting_as, world):
    """The owner's details are one Customer: the form says how many cars share them."""
    owner_id = world.user("eigenaar").id
    car = next(
        p
        for p in world.passports(state="activated")
        if p.owner.email == world.user("eigenaar").email
    )
    assert owner_id
    with acting_as("garage-jansen"):
        cars = rules.cars_of_customer(world.session, car.owner_id)
        assert len([c for c, role in cars if role == "owner"]) == 2
        assert rules.shared_by(world.session, car) == 2
