"""Issue 20: the transfer state machine lives in services/transfers.py. start_transfer
says which path it took (R-TR-1, R-TR-2, R-FL-5, R-FL-6), so no screen infers it again from
the states afterwards, and a transfer leaves `pending` once (transfers.MOVES)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, Forbidden, NotFound
from admin_app.models import IdempotencyKey, Passport
from admin_app.services import transfers
from admin_app.services.passports import PersonDetails
from admin_app.services.transfers import TransferPath

KNOWN_OWNER = {"email": "eigenaar@example.nl", "last_name": "Eigenaar"}  # has an Owner login
NEW_EMAIL = {"email": "nieuw@example.nl", "last_name": "Nieuw"}


def stock_car(world):
    return world.passports(garage_id=world.garage("Autobedrijf Jansen").id, stock_car=True)[0]


def fleet_car(world):
    return world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]


def start(session, acting, car, person, **kwargs):
    with unit_of_work(session):
        return transfers.start_transfer(
            session,
            car.id,
            actor=acting.actor,
            person=PersonDetails.from_mapping(person),
            **kwargs,
        )


# Each start of the table in services/transfers.py: who starts, to whom → the path, the
# transfer's state and the car's.
STARTS = [
    ("garage-jansen", stock_car, NEW_EMAIL, "owner", TransferPath.handed_over, "accepted", "sent"),
    (
        "garage-jansen",
        stock_car,
        KNOWN_OWNER,
        "owner",
        TransferPath.awaits_acceptance,
        "pending",
        "transfer_pending",
    ),
    (
        "fleet-bakker",
        fleet_car,
        NEW_EMAIL,
        "owner",
        TransferPath.awaits_activation,
        "pending",
        "transfer_pending",
    ),
    ("fleet-bakker", fleet_car, NEW_EMAIL, "driver", TransferPath.new_driver, "accepted", None),
]


@pytest.mark.parametrize(
    ("login", "car_of", "person", "kind", "path", "transfer_state", "car_state"), STARTS
)
def test_issue20_start_transfer_names_the_path_it_took(
    acting_as, world, login, car_of, person, kind, path, transfer_state, car_state
):
    """R-TR-2, R-FL-5, R-FL-6: the result names the path; the states are the table's."""
    s = world.session
    car = car_of(world)
    state_before = car.state
    with acting_as(login) as acting:
        started = start(s, acting, car, person, kind=kind)
    assert started.path is path
    assert started.transfer.state == transfer_state
    s.expire_all()
    assert s.get(Passport, car.id).state == (car_state or state_before)


def test_issue20_a_transfer_leaves_pending_once(acting_as, world):
    """R-TR-2: a cancelled transfer cannot then expire or be accepted (MOVES)."""
    s = world.session
    with acting_as("garage-jansen") as acting:
        waiting = start(s, acting, stock_car(world), KNOWN_OWNER).transfer
        with unit_of_work(s):
            transfers.cancel_transfer(s, waiting.id, actor=acting.actor)
    for ending in transfers.MOVES["pending"]:
        with pytest.raises(Conflict):
            transfers.settle(waiting, ending)
    assert waiting.state == "cancelled"


def test_issue20_the_form_sent_again_is_told_the_first_path(acting_as, world):
    """R-TR-5: the second submit of a confirmed form gets the first one's answer, path and
    all — also when the form's key was recorded before the path was (issue 20)."""
    s = world.session
    car = stock_car(world)

    def confirm(acting):
        with unit_of_work(s):
            return transfers.confirm_transfer_form(
                s,
                car.id,
                actor=acting.actor,
                person=PersonDetails.from_mapping(KNOWN_OWNER),
                confirmation_key="form-issue20",
            )

    with acting_as("garage-jansen") as acting:
        first = confirm(acting)
        again = confirm(acting)
        assert again.transfer.id == first.transfer.id
        assert again.path is first.path is TransferPath.awaits_acceptance
        record = s.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "form-issue20")).one()
        with unit_of_work(s):
            record.body = json.dumps({"transfer_id": first.transfer.id}).encode()
        assert confirm(acting).path is TransferPath.awaits_acceptance


def test_issue20_the_cancel_button_asks_allowed_actions(acting_as, world):
    """R-TR-2: the car's page cancels its waiting transfer by allowed_actions'
    "cancel_transfer": an owner who did not start it may not; none waiting is a 409."""
    s = world.session
    car = stock_car(world)
    with acting_as("garage-jansen") as acting:
        waiting = start(s, acting, car, KNOWN_OWNER).transfer
    with acting_as("eigenaar") as acting, pytest.raises((Forbidden, NotFound)):
        transfers.cancel_waiting_transfer(s, car.id, actor=acting.actor)
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            assert transfers.cancel_waiting_transfer(s, car.id, actor=acting.actor) is waiting
        assert waiting.state == "cancelled"
        with pytest.raises(Conflict, match="overdracht"), unit_of_work(s):
            transfers.cancel_waiting_transfer(s, car.id, actor=acting.actor)
