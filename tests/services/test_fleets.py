"""R-FL-1…6: fleet accounts, linking, the fleet manager's transfers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, InvalidInput, NotFound
from admin_app.models import ConsoleUser, FleetAccount, OutboxMessage, Passport, Transfer
from admin_app.services import fleets, transfers
from admin_app.services import passports as passport_rules
from admin_app.services.passports import PersonDetails
from tests.mails import mail_text

BASE = "http://console"


def jansen_activated(world, **extra):
    jansen = world.garage("Autobedrijf Jansen")
    managers = {f.manager_passport_id for f in world.session.scalars(select(FleetAccount))}
    return [
        p
        for p in world.passports(garage_id=jansen.id, state="activated", **extra)
        if not p.stock_car and not p.fleet_account_id and p.id not in managers
    ]


def last_mail(session):
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()


def create(s, acting, passport_id, email="wagenpark@loodgieter.nl", name="Loodgieter BV"):
    with unit_of_work(s):
        return fleets.create_fleet_account(
            s,
            actor=acting.actor,
            name=name,
            email=email,
            manager_passport_id=passport_id,
        )


def test_r_fl_1_fleet_account_from_an_activated_passport_with_a_welcome_link(acting_as, world):
    s = world.session
    manager = jansen_activated(world)[0]
    with acting_as("garage-jansen") as acting:
        fleet = create(s, acting, manager.id)
        assert fleet.manager_passport_id == manager.id and fleet.garage_id == manager.garage_id
        mail = last_mail(s)
        assert mail.recipient == "wagenpark@loodgieter.nl"
        assert "/reset-password/" in mail_text(s, mail) and "wachtwoord" not in mail.subject.lower()
    login = s.scalars(select(ConsoleUser).where(ConsoleUser.fleet_account_id == fleet.id)).one()
    assert [r.name for r in login.roles] == ["FleetManager"] and login.password is None


def test_r_fl_1_manager_passport_must_be_activated_and_own(acting_as, world):
    s = world.session
    sent = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[0]
    other = world.passports(garage_id=world.garage("Garage De Vries").id, state="activated")[0]
    with acting_as("garage-jansen") as acting:
        with pytest.raises(Conflict, match="geactiveerd"):
            create(s, acting, sent.id)
        with pytest.raises(InvalidInput) as refused:
            create(s, acting, other.id)
        assert "manager_passport_id" in refused.value.errors


def test_r_fl_1_email_must_differ_from_the_managers_own(acting_as, world):
    manager = jansen_activated(world)[0]
    with acting_as("garage-jansen") as acting, pytest.raises(InvalidInput) as refused:
        create(world.session, acting, manager.id, email=manager.owner.email.upper())
    assert "email" in refused.value.errors


def test_r_fl_1_one_fleet_account_per_passport_and_per_email(acting_as, world):
    s = world.session
    first, second = jansen_activated(world)[:2]
    with acting_as("garage-jansen") as acting:
        create(s, acting, first.id)
        with pytest.raises(Conflict):
            create(s, acting, first.id, email="ander@loodgieter.nl")
        with pytest.raises(Conflict, match="in gebruik"):
            create(s, acting, second.id, email="WAGENPARK@loodgieter.nl")


def test_r_fl_2_start_with_the_garages_address_then_move_to_the_manager(acting_as, world):
    s = world.session
    manager = jansen_activated(world)[0]
    with acting_as("garage-jansen") as acting:
        fleet = create(s, acting, manager.id, email="wagenpark-tijdelijk@autobedrijf-jansen.nl")
        with unit_of_work(s):
            fleets.change_fleet_email(s, fleet.id, "fm@loodgieter.nl", actor=acting.actor)
        assert last_mail(s).recipient == "fm@loodgieter.nl"
    login = s.scalars(select(ConsoleUser).where(ConsoleUser.fleet_account_id == fleet.id)).one()
    assert login.email == "fm@loodgieter.nl" and login.username == "fm@loodgieter.nl"


def test_r_fl_3_link_and_unlink_an_activated_passport(acting_as, world):
    s = world.session
    car = jansen_activated(world)[0]
    fleet_id = world.user("fleet-bakker").fleet_account_id
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            fleets.link_passport(s, car.id, fleet_id, actor=acting.actor)
        assert car.fleet_account_id == fleet_id
        with unit_of_work(s):
            fleets.unlink_passport(s, car.id, actor=acting.actor)
        assert car.fleet_account_id is None


def test_r_fl_3_refusals_linking(acting_as, world):
    s = world.session
    sent = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[0]
    fleet = s.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Autobedrijf Jansen").id)
    ).one()
    devries_fleet = s.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Garage De Vries").id)
    ).one()
    devries_car = world.passports(garage_id=world.garage("Garage De Vries").id, state="activated")[
        0
    ]
    with acting_as("garage-jansen") as acting:
        with pytest.raises(Conflict, match="geactiveerd"):
            fleets.link_passport(s, sent.id, fleet.id, actor=acting.actor)
        with pytest.raises(Conflict, match="eigen AutoPaspoort"):
            fleets.link_passport(s, fleet.manager_passport_id, fleet.id, actor=acting.actor)
        with pytest.raises(InvalidInput):
            fleets.link_passport(
                s, jansen_activated(world)[0].id, devries_fleet.id, actor=acting.actor
            )
        with pytest.raises(NotFound):
            fleets.link_passport(s, devries_car.id, fleet.id, actor=acting.actor)


def test_r_fl_5_fleet_manager_changes_the_driver_and_the_car_stays(acting_as, world):
    s = world.session
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id)[0]
    with acting_as("fleet-bakker") as acting:
        with unit_of_work(s):
            transfers.start_transfer(
                s,
                car.id,
                actor=acting.actor,
                kind="driver",
                person=PersonDetails.from_mapping(
                    {"email": "nieuwe.chauffeur@example.nl", "last_name": "Chauffeur"}
                ),
            )
        s.refresh(car)
        assert car.fleet_account_id == fleet_id and car.state == "activated"
        assert car.driver.email == "nieuwe.chauffeur@example.nl"
    raw = re.search(r"/access/(\S+)", mail_text(s)).group(1)
    with acting_as(None), unit_of_work(s):
        user = passport_rules.grant_driver_access(
            s, raw, password="rijden-rijden", confirm="rijden-rijden"
        )
    assert [r.name for r in user.roles] == ["Owner"]
    with acting_as("nieuwe.chauffeur@example.nl"):
        assert car.id in {p.id for p in s.scalars(select(Passport)).unique()}


def test_r_fl_5_only_the_fleet_manager_transfers_a_linked_car(acting_as, world):
    s = world.session
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id)[0]
    person = PersonDetails.from_mapping({"email": "koper@example.nl", "last_name": "Koper"})
    with acting_as("garage-jansen") as acting, pytest.raises(Conflict, match="wagenpark"):
        transfers.start_transfer(s, car.id, actor=acting.actor, person=person)


def test_r_fl_6_transfer_out_waits_then_the_car_leaves_the_fleet(acting_as, world):
    s = world.session
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id)[0]
    with acting_as("fleet-bakker") as acting:
        with unit_of_work(s):
            done = transfers.start_transfer(
                s,
                car.id,
                actor=acting.actor,
                person=PersonDetails.from_mapping(
                    {"email": "eigenaar@example.nl", "last_name": "Eigenaar"}
                ),
            ).transfer
        assert done.state == "pending"
        s.refresh(car)
        assert car.fleet_account_id == fleet_id and car.state == "transfer_pending"
    raw = re.search(r"/transfer/accept/(\S+)", mail_text(s)).group(1)
    with acting_as("eigenaar") as acting, unit_of_work(s):
        transfers.accept_transfer(s, raw, actor=acting.actor)
    s.expire_all()
    assert s.get(Passport, car.id).fleet_account_id is None
    assert s.get(Transfer, done.id).state == "accepted"
    with acting_as("fleet-bakker") as acting:
        with pytest.raises(NotFound):
            passport_rules.get_passport(s, car.id)


def test_r_fl_6_new_email_accepts_by_activating(acting_as, world):
    s = world.session
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id)[0]
    with acting_as("fleet-bakker") as acting:
        with unit_of_work(s):
            transfers.start_transfer(
                s,
                car.id,
                actor=acting.actor,
                person=PersonDetails.from_mapping(
                    {"email": "nieuw@example.nl", "last_name": "Nieuw"}
                ),
            )
        s.refresh(car)
        assert car.state == "transfer_pending" and car.fleet_account_id == fleet_id
    raw = re.search(r"/activate/(\S+)", mail_text(s)).group(1)
    with acting_as(None), unit_of_work(s):
        passport_rules.activate_passport(
            s, raw, password="geheim-wachtwoord", confirm="geheim-wachtwoord"
        )
    s.expire_all()
    moved = s.get(Passport, car.id)
    assert moved.fleet_account_id is None and moved.state == "activated"
