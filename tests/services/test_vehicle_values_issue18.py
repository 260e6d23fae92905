"""Issue 18, every car filled in and kept current: the one read of a car's values
(services/vehicle_values.py), the create-fill and the later APK date.

The demo data has imported the sample register (7ZTK17: Volkswagen Golf, Benzine, APK
2027-08-11, first admitted 2022-08-13).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from admin_app.models import Passport
from admin_app.services import passports as passport_rules
from admin_app.services import vehicle_values
from admin_app.services.apk_reminders import apk_expiry_of
from admin_app.services.calendar_feeds import car_dates
from admin_app.services.passports import PersonDetails, VehicleDetails

GOLF_APK = dt.date(2027, 8, 11)
PERSON = {"email": "k.golf@example.nl", "first_name": "Kees", "last_name": "Golf"}


def _create(acting, vehicle=None, plate="7-ztk-17"):
    with acting("garage-jansen") as act:
        passport = passport_rules.create_passport(
            act.world.session,
            actor=act.actor,
            plate=plate,
            person=PersonDetails.from_mapping(PERSON),
            vehicle=VehicleDetails.from_mapping(vehicle or {}),
        )
        act.world.session.commit()
        return passport.id


def test_issue18_a_passport_created_without_brand_reads_as_the_registers_golf(world, acting_as):
    """Issue 18 (every car filled in): nothing typed, nothing stored; every value comes
    from the register, marked as such with the day it was seen."""
    s = world.session
    passport = s.get(Passport, _create(acting_as))
    assert (passport.brand, passport.model, passport.fuel, passport.apk_expiry) == (None,) * 4
    car = vehicle_values.values_of_one(s, passport)
    assert (car.brand.value, car.model.value, car.fuel.value) == ("Volkswagen", "Golf", "Benzine")
    assert car.apk_expiry.value == GOLF_APK
    assert car.first_registration.value == dt.date(2022, 8, 13)
    assert {v.source for v in car.fields().values()} == {"register"}
    assert car.register_checked_on is not None


def test_issue18_typed_as_the_register_has_it_becomes_the_registers(world, acting_as):
    """Issue 18: a typed value equal to the register's (any case) is not stored as typed;
    one that differs is kept and the register's is beside it."""
    s = world.session
    pk = _create(acting_as, {"brand": "volkswagen", "model": "Polo", "apk_expiry": "2027-08-11"})
    passport = s.get(Passport, pk)
    assert (passport.brand, passport.model, passport.apk_expiry) == (None, "Polo", None)
    car = vehicle_values.values_of_one(s, passport)
    assert car.brand.source == "register" and not car.brand.differs
    assert (car.model.value, car.model.source, car.model.register) == ("Polo", "typed", "Golf")
    assert car.model.differs
    with acting_as("garage-jansen") as act:
        passport_rules.update_passport(s, pk, {"model": "GOLF", "fuel": "Diesel"}, actor=act.actor)
        s.commit()
    s.expire_all()
    passport = s.get(Passport, pk)
    assert (passport.model, passport.fuel) == (None, "Diesel")


def test_issue18_the_later_apk_date_counts_for_reminders_proposals_and_calendars(world, acting_as):
    """Issue 18: for the APK expiry the later of typed and register counts: in SQL
    (apk_reminders.apk_expiry_of, which proposals use too) and in calendar feeds."""
    s = world.session
    pk = _create(acting_as, {"apk_expiry": "2026-01-31"})
    by_sql = select(apk_expiry_of(Passport)).where(Passport.id == pk)
    assert s.scalar(by_sql) == GOLF_APK  # the register's is later
    s.execute(update(Passport).where(Passport.id == pk).values(apk_expiry=dt.date(2028, 1, 5)))
    assert s.scalar(by_sql) == dt.date(2028, 1, 5)  # the typed one is later
    passport = s.get(Passport, pk)
    s.refresh(passport)
    apk = [d for d in car_dates(s, [passport]) if d.kind == "apk"]
    assert [d.day for d in apk] == [dt.date(2028, 1, 5)]
    s.execute(update(Passport).where(Passport.id == pk).values(apk_expiry=None))
    assert s.scalar(by_sql) == GOLF_APK  # nothing typed: the register's
    # A plate the register does not hold keeps its typed date, and NULL stays NULL.
    other = s.scalar(select(Passport).where(Passport.plate != "7ZTK17").limit(1))
    assert s.scalar(select(apk_expiry_of(Passport)).where(Passport.id == other.id)) == (
        other.apk_expiry
        if other.plate not in vehicle_values.vehicle_facts(s, [other.plate])
        else vehicle_values.values_of_one(s, other).apk_expiry.value
    )


def test_issue18_a_car_known_only_to_the_register_is_reminded_by_its_date_and_name(
    world,
):
    """Issue 18: a passport with nothing typed is reminded 6 weeks before the register's
    APK date, and the mail names it as the register does (Volkswagen Golf)."""
    from admin_app.models import ApkReminder, Garage, OutboxMessage
    from tests.mails import mail_text
    from tests.services.test_apk_reminders_issue18 import owner_car, run

    s = world.session
    s.execute(delete(ApkReminder))
    s.execute(update(Passport).values(apk_expiry=None))
    s.execute(update(Garage).values(apk_reminders=True, apk_reminders_from=dt.date(2000, 1, 1)))
    car = owner_car(world)
    car.plate, car.brand, car.model = "7ZTK17", None, None
    s.commit()
    assert run(world, GOLF_APK - dt.timedelta(weeks=6)).reminders >= 1
    reminder = s.scalars(select(ApkReminder).where(ApkReminder.passport_id == car.id)).one()
    assert reminder.apk_expiry == GOLF_APK
    message = s.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "apk_reminder", OutboxMessage.recipient == car.owner.email)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert "Volkswagen Golf (7-ZTK-17)" in " ".join(mail_text(s, message).split())


def test_issue18_the_passport_export_carries_the_values_that_count(world, acting_as):
    """Issue 18: the export's brand, model and APK date are the typed or else the
    register's (the later APK date), with fuel and first registration after the list's
    columns."""
    from admin_app.services import exports
    from admin_app.services.passport_export import PASSPORT_EXPORT

    pk = _create(acting_as, {"model": "Golf Variant", "apk_expiry": "2026-01-31"})
    with acting_as("garage-jansen") as act:
        query = act.world.session.query(Passport).filter(Passport.id == pk)
        data = b"".join(exports.csv_chunks(PASSPORT_EXPORT, query, batch=7))
    header, row = (line.split(";") for line in data.decode("utf-8-sig").split("\r\n") if line)
    got = dict(zip(header, row, strict=True))
    assert (got["Merk"], got["Model"], got["APK-vervaldatum"]) == (
        "Volkswagen",
        "Golf Variant",
        "11-08-2027",
    )
    assert (got["Brandstof"], got["Eerste toelating"]) == ("Benzine", "13-08-2022")
