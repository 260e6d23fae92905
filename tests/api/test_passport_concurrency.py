"""Issue 13 (R-TR-5): five requests at once change a passport once; the other four get 409.

Real threads against the real app and database: each request has its own test client and
so its own request and app context, its own session and its own database connection (five
connections on PostgreSQL, five writers on one SQLite file). Every thread pauses 0.3 s
before its first write (``slow_first_write``): without a lock all five would pass their
checks on the state they read before anyone wrote — the race made certain instead of
likely; with the lock the pause is spent holding it, and the others wait.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from admin_app.models import (
    AccessToken,
    AuditLog,
    Customer,
    FleetAccount,
    OutboxMessage,
    Passport,
    Transfer,
)
from tests.mails import mail_text

PARALLEL = 5


@pytest.fixture()
def slow_first_write():
    """Each request thread waits before its first flush, the main thread never."""
    paused = threading.local()

    def pause(session, flush_context, instances):
        if threading.current_thread() is threading.main_thread() or getattr(paused, "done", 0):
            return
        paused.done = 1
        time.sleep(0.3)

    event.listen(Session, "before_flush", pause)
    yield
    event.remove(Session, "before_flush", pause)


@pytest.fixture()
def at_once(app, api_client, slow_first_write):
    """``at_once(username, method, path, json=...)``: five identical API requests started
    together; their responses, sorted by status."""

    def run(username: str, method: str, path: str, json=None) -> list:
        headers = {"Authorization": api_client(username).environ_base["HTTP_AUTHORIZATION"]}
        start = threading.Barrier(PARALLEL)
        answers: list = [None] * PARALLEL

        def one(index: int) -> None:
            client = app.test_client()
            try:
                start.wait()
                answers[index] = client.open(path, method=method, json=json, headers=headers)
            except BaseException as error:  # noqa: BLE001 - shown by the test below
                answers[index] = error

        threads = [threading.Thread(target=one, args=(i,)) for i in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        return sorted(answers, key=lambda response: response.status_code)

    return run


def statuses(answers) -> list[int]:
    return [answer.status_code for answer in answers]


def refusals(answers) -> set[str]:
    """The messages of the 409s, each in the contract's shape."""
    bodies = [answer.get_json() for answer in answers if answer.status_code == 409]
    assert all(set(body) == {"message", "errors"} for body in bodies), bodies
    return {body["message"] for body in bodies}


def state_changes(world, passport_id: int) -> int:
    """Audit rows that changed the passport's state (R-SEC-2 writes one per change)."""
    world.session.expire_all()
    rows = world.session.scalars(
        select(AuditLog).where(
            AuditLog.table_name == "passport",
            AuditLog.record_id == passport_id,
            AuditLog.action == "update",
        )
    ).all()
    return sum(1 for row in rows if "state" in (row.changes or {}))


def jansen(world, **filters) -> Passport:
    garage = world.garage("Autobedrijf Jansen")
    return world.passports(garage_id=garage.id, **filters)[0]


def count(world, statement) -> int:
    world.session.expire_all()
    return world.session.scalar(select(func.count()).select_from(statement.subquery()))


def test_issue13_five_parallel_archives_one_change_four_409(world, at_once):
    car = jansen(world, state="sent", fleet_account_id=None)
    answers = at_once("garage-jansen", "POST", f"/api/v1/passport/{car.id}/archive")
    assert statuses(answers) == [200, 409, 409, 409, 409]
    assert refusals(answers) == {"Dit AutoPaspoort is al gearchiveerd."}
    assert state_changes(world, car.id) == 1


BUYER = {"email": "koper@example.nl", "first_name": "Kees", "last_name": "Koper"}


def test_issue13_five_parallel_transfers_one_change_four_409(world, at_once):
    """R-TR-5 without Idempotency-Key: one transfer, one new customer, one mail."""
    car = jansen(world, stock_car=True)
    answers = at_once("garage-jansen", "POST", f"/api/v1/passport/{car.id}/transfer", json=BUYER)
    assert statuses(answers) == [200, 409, 409, 409, 409]
    assert refusals(answers) == {"Deze auto is al overgedragen aan koper@example.nl."}
    assert count(world, select(Transfer).where(Transfer.passport_id == car.id)) == 1
    assert count(world, select(Customer).where(Customer.email == BUYER["email"])) == 1
    assert count(world, select(OutboxMessage).where(OutboxMessage.recipient == BUYER["email"])) == 1
    assert state_changes(world, car.id) == 1


def test_issue13_five_parallel_cancels_of_a_transfer_one_change_four_409(
    world, api_client, at_once
):
    car = jansen(world, stock_car=True)
    started = api_client("garage-jansen").post(
        f"/api/v1/passport/{car.id}/transfer", json={**BUYER, "email": "eigenaar@example.nl"}
    )
    assert started.get_json()["result"]["state"] == "pending", started.get_json()
    transfer_id = started.get_json()["id"]
    answers = at_once("garage-jansen", "POST", f"/api/v1/transfer/{transfer_id}/cancel")
    assert statuses(answers) == [200, 409, 409, 409, 409]
    assert refusals(answers) == {"Alleen een overdracht die nog wacht kan worden geannuleerd."}
    assert state_changes(world, car.id) == 2  # to transfer_pending and back


def test_issue13_five_parallel_sends_one_change_four_409(world, api_client, at_once):
    """R-PP-4: the send is made once — one state change, one mail, one valid link; the
    four others come within the resend pause and are refused."""
    created = api_client("garage-jansen").post(
        "/api/v1/passport/",
        json={"plate": "x-999-zz", "email": "nieuw.klant@example.nl", "last_name": "Klant"},
    )
    passport_id = created.get_json()["id"]
    answers = at_once("garage-jansen", "POST", f"/api/v1/passport/{passport_id}/send")
    assert statuses(answers) == [200, 409, 409, 409, 409]
    (message,) = refusals(answers)
    assert message.startswith("Dit AutoPaspoort is zojuist naar nieuw.klant@example.nl verstuurd")
    mails = select(OutboxMessage).where(OutboxMessage.recipient == "nieuw.klant@example.nl")
    assert count(world, mails) == 1
    mail_text(world.session, world.session.scalars(mails).one())  # its link, made when sent
    links = select(AccessToken).where(
        AccessToken.subject_id == passport_id,
        AccessToken.purpose == "activation",
        AccessToken.used_at.is_(None),
    )
    assert count(world, links) == 1
    assert state_changes(world, passport_id) == 1


def fleet_candidate(world) -> Passport:
    """An activated car of Jansen's, in no fleet and managing none."""
    managers = {f.manager_passport_id for f in world.session.scalars(select(FleetAccount))}
    return next(
        p
        for p in world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")
        if not p.stock_car and not p.fleet_account_id and p.id not in managers
    )


def fleet_changes(world, passport_id: int) -> int:
    world.session.expire_all()
    rows = world.session.scalars(
        select(AuditLog).where(AuditLog.table_name == "passport", AuditLog.record_id == passport_id)
    ).all()
    return sum(1 for row in rows if "fleet_account_id" in (row.changes or {}))


def test_issue13_five_parallel_fleet_links_one_change_four_409(world, at_once):
    """R-FL-3: linked once; the others find it linked (and unlinking is the same)."""
    car = fleet_candidate(world)
    fleet_id = world.user("fleet-bakker").fleet_account_id
    path = f"/api/v1/passport/{car.id}/fleet"
    linked = at_once("garage-jansen", "PUT", path, json={"fleet_account_id": fleet_id})
    assert statuses(linked) == [200, 409, 409, 409, 409]
    assert refusals(linked) == {"Deze auto is al aan dit wagenpark gekoppeld."}
    assert fleet_changes(world, car.id) == 1
    unlinked = at_once("garage-jansen", "DELETE", path)
    assert statuses(unlinked) == [200, 409, 409, 409, 409]
    assert refusals(unlinked) == {"Deze auto is niet aan een wagenpark gekoppeld."}
    assert fleet_changes(world, car.id) == 2


def test_issue13_five_parallel_moves_one_change_four_409(world, at_once):
    """R-PP-8: Support moves a car once; its owner becomes one customer at the new garage."""
    car = jansen(world, state="activated", stock_car=False, fleet_account_id=None)
    owner_email = car.owner.email
    target = world.garage("Garage De Vries")
    answers = at_once(
        "support", "POST", f"/api/v1/passport/{car.id}/move", json={"garage_id": target.id}
    )
    assert statuses(answers) == [200, 409, 409, 409, 409]
    assert refusals(answers) == {"Het AutoPaspoort staat al bij deze garage."}
    customers = select(Customer).where(
        Customer.garage_id == target.id, func.lower(Customer.email) == owner_email.lower()
    )
    assert count(world, customers) == 1
