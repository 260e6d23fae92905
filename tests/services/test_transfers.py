"""R-TR-1…5: transfers of a passport to a new owner."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.models import OutboxMessage, Passport, Transfer
from admin_app.models.base import utcnow
from admin_app.services import passports as passport_rules
from admin_app.services import transfers
from admin_app.services.passports import PersonDetails
from tests import factories
from tests.mails import mail_text

BASE = "http://console"


def buyer(email="koper@example.nl", last_name="Koper", **extra):
    return PersonDetails.from_mapping(
        {"email": email, "last_name": last_name, "first_name": "Kees", **extra}
    )


def stock_car(world):
    jansen = world.garage("Autobedrijf Jansen")
    return world.passports(garage_id=jansen.id, stock_car=True)[0]


def transfer(session, acting, passport_id, who=None, **kwargs):
    with unit_of_work(session):
        return transfers.start_transfer(
            session, passport_id, actor=acting.actor, person=who or buyer(), **kwargs
        ).transfer


def confirmed_form(session, acting, passport_id, key, who=None, **kwargs):
    with unit_of_work(session):
        return transfers.confirm_transfer_form(
            session,
            passport_id,
            actor=acting.actor,
            person=who or buyer(),
            confirmation_key=key,
            **kwargs,
        ).transfer


def last_mail(session):
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()


def test_r_tr_1_garage_transfers_a_stock_car_and_the_flag_is_cleared(
    acting_in_empty_world, empty_world
):
    s = empty_world.session
    jansen, _ = factories.garage_with_staff(s)
    car = factories.stock_car(s, jansen)
    with acting_in_empty_world("garage-jansen") as acting:
        done = transfer(s, acting, car.id)
        s.refresh(car)
        assert not car.stock_car
        assert done.kind == "owner" and done.to_email == "koper@example.nl"


def test_r_tr_1_garage_may_not_transfer_a_customers_car(acting_in_empty_world, empty_world):
    s = empty_world.session
    jansen, _ = factories.garage_with_staff(s)
    car = factories.passport(s, jansen)
    with acting_in_empty_world("garage-jansen") as acting, pytest.raises(Conflict):
        transfer(s, acting, car.id)


def test_r_tr_2_new_email_takes_the_car_at_once_with_an_activation_mail(
    acting_in_empty_world, empty_world
):
    s = empty_world.session
    jansen, _ = factories.garage_with_staff(s)
    car = factories.stock_car(s, jansen)
    with acting_in_empty_world("garage-jansen") as acting:
        done = transfer(s, acting, car.id)
        s.refresh(car)
        assert car.owner.email == "koper@example.nl"
        assert car.state == "sent" and done.state == "accepted"
        mail = last_mail(s)
        assert mail.recipient == "koper@example.nl" and "/activate/" in mail_text(s, mail)


def test_r_tr_2_known_owner_must_accept_and_then_the_car_is_his(acting_as, world):
    s = world.session
    car = stock_car(world)
    with acting_as("garage-jansen") as acting:
        done = transfer(s, acting, car.id, who=buyer(email="Eigenaar@Example.nl"))
        s.refresh(car)
        assert car.state == "transfer_pending" and done.state == "pending"
        assert car.owner.email == "werkplaats@autobedrijf-jansen.nl"  # not his yet
        raw = re.search(r"/transfer/accept/(\S+)", mail_text(s)).group(1)
    with acting_as("garage-devries") as acting, pytest.raises(Forbidden):
        transfers.accept_transfer(s, raw, actor=acting.actor)
    with acting_as("eigenaar") as acting:
        with unit_of_work(s):
            transfers.accept_transfer(s, raw, actor=acting.actor)
    s.expire_all()
    car = s.get(Passport, car.id)
    assert car.state == "activated" and car.owner.email.lower() == "eigenaar@example.nl"
    with acting_as("eigenaar") as acting:
        ids = {p.id for p in s.scalars(select(Passport)).unique()}
        assert car.id in ids and len(ids) == 3


@pytest.mark.parametrize("ending", ["cancel", "expire"])
def test_r_tr_2_cancel_or_expiry_restores_owner_and_state(acting_as, world, ending):
    s = world.session
    car = stock_car(world)
    owner_before = car.owner_id
    with acting_as("garage-jansen") as acting:
        done = transfer(s, acting, car.id, who=buyer(email="eigenaar@example.nl"))
        with unit_of_work(s):
            if ending == "cancel":
                transfers.cancel_transfer(s, done.id, actor=acting.actor)
            else:
                assert transfers.expire_transfers(s, utcnow() + timedelta(days=13)) == 0
                assert transfers.expire_transfers(s, utcnow() + timedelta(days=14, seconds=1))
        s.refresh(car)
        s.refresh(done)
        assert car.owner_id == owner_before and car.state == "activated" and car.stock_car
        assert done.state == ("cancelled" if ending == "cancel" else "expired")


def test_r_tr_3_after_a_transfer_the_garage_cannot_change_the_email(acting_as, world):
    s = world.session
    car = stock_car(world)
    with acting_as("garage-jansen") as acting:
        transfer(s, acting, car.id)
        s.refresh(car)
        assert car.state == "sent"
        with pytest.raises(Conflict, match="support"):
            passport_rules.change_owner_email(s, car.id, "ander@example.nl", actor=acting.actor)
    with acting_as("support") as acting, unit_of_work(s):
        passport_rules.change_owner_email(s, car.id, "ander@example.nl", actor=acting.actor)


def test_r_tr_4_fleet_linked_car_is_refused_to_the_garage(acting_as, world):
    s = world.session
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id)[0]
    with acting_as("garage-jansen") as acting:
        with pytest.raises(Conflict) as refused:
            transfer(s, acting, car.id)
        message = str(refused.value.message)
        assert "wagenpark" in message and "ontkoppel" in message.lower()


def test_r_tr_5_history_and_two_confirmations_make_one_transfer(acting_as, world):
    s = world.session
    car = stock_car(world)
    key = transfers.new_confirmation_key()
    with acting_as("garage-jansen") as acting:
        first, second = (confirmed_form(s, acting, car.id, key) for _ in range(2))
        assert first.id == second.id
        assert (
            s.scalar(
                select(func.count()).select_from(Transfer).where(Transfer.passport_id == car.id)
            )
            == 1
        )
        row = s.get(Transfer, first.id)
        assert (row.kind, row.created_by) == ("owner", "garage-jansen")
        assert row.from_customer.email == "werkplaats@autobedrijf-jansen.nl"
        assert row.to_email == "koper@example.nl" and row.created_at


def test_r_tr_5_a_transfer_to_the_current_owner_is_refused(acting_as, world):
    car = stock_car(world)
    with acting_as("garage-jansen") as acting:
        with pytest.raises(InvalidInput) as refused:
            transfer(
                world.session, acting, car.id, who=buyer(email="WERKPLAATS@autobedrijf-jansen.nl")
            )
        assert "email" in refused.value.errors


def test_r_tr_1_owner_transfers_his_own_car(acting_as, world):
    s = world.session
    with acting_as("eigenaar") as acting:
        mine = s.scalars(select(Passport)).unique().first().id
        done = transfer(s, acting, mine, who=buyer(email="volgende@example.nl"))
        assert done.state == "accepted"
    s.expire_all()
    with acting_as("eigenaar"):
        assert mine not in {p.id for p in s.scalars(select(Passport)).unique()}


def test_r_tr_5_a_pending_transfer_blocks_a_second_one(acting_as, world):
    s = world.session
    car = stock_car(world)
    with acting_as("garage-jansen") as acting:
        transfer(s, acting, car.id, who=buyer(email="eigenaar@example.nl"))
        with pytest.raises(Conflict):
            transfer(s, acting, car.id, who=buyer(email="iemand@example.nl"))
