"""Issue 16: the Idempotency-Key rule (services/idempotency), without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import BadRequest, Conflict, InvalidInput
from admin_app.models import IdempotencyKey, Transfer
from admin_app.models.base import utcnow
from admin_app.services import idempotency, transfers
from admin_app.services.idempotency import Answer, Caller, OtherRequest
from admin_app.services.passports import PersonDetails
from tests import factories

FIRST = idempotency.fingerprint("POST", "/api/v1/passport/", b'{"plate":"1"}')
OTHER = idempotency.fingerprint("POST", "/api/v1/passport/", b'{"plate":"2"}')
CREATED = Answer(201, {"Content-Type": "application/json"}, b'{"id":7}')


def claim(session, caller, key="k-1", request_print=FIRST, now=None):
    with unit_of_work(session):
        return idempotency.claim(session, caller, key, request_print, now=now or utcnow())


def keys(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(IdempotencyKey))


def test_issue16_a_key_runs_once_then_gives_its_answer(empty_world):
    s = empty_world.session
    jansen = Caller("user", factories.garage_login(s, factories.garage(s)).id)
    assert claim(s, jansen) is None
    with pytest.raises(Conflict) as running:  # the first one is still busy
        claim(s, jansen)
    assert running.value.status == 409 and "Idempotency-Key" in running.value.errors
    with unit_of_work(s):
        idempotency.record_answer(s, jansen, "k-1", CREATED)
    assert claim(s, jansen) == CREATED
    with pytest.raises(OtherRequest) as other:
        claim(s, jansen, request_print=OTHER)
    assert other.value.status == 422
    assert keys(s) == 1


def test_issue16_keys_belong_to_their_caller(empty_world):
    s = empty_world.session
    jansen = Caller("user", factories.garage_login(s, factories.garage(s)).id)
    devries = Caller("user", factories.garage_login(s, factories.garage(s)).id)
    assert claim(s, jansen) is None
    assert claim(s, devries, request_print=OTHER) is None
    assert claim(s, Caller("api_key", 1)) is None  # an API key's keys are its own too
    assert keys(s) == 3


def test_issue16_a_released_or_expired_key_runs_again_until_purged(empty_world):
    s = empty_world.session
    jansen = Caller("user", factories.garage_login(s, factories.garage(s)).id)
    assert claim(s, jansen) is None
    with unit_of_work(s):
        idempotency.release(s, jansen, "k-1")
    assert claim(s, jansen) is None  # a failed first try leaves nothing behind
    with unit_of_work(s):
        idempotency.record_answer(s, jansen, "k-1", CREATED)
    later = utcnow() + idempotency.LIFETIME + timedelta(seconds=1)
    assert claim(s, jansen, request_print=OTHER, now=later) is None  # the old one is ignored
    with unit_of_work(s):
        assert idempotency.purge_expired(s, later) == 0  # the new claim lives 24 h from now
        assert idempotency.purge_expired(s, later + idempotency.LIFETIME) == 1
    assert keys(s) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "sleutel-é", "line\nbreak", "tab\there"])
def test_issue16_a_key_is_1_to_255_printable_ascii(key):
    with pytest.raises(BadRequest):
        idempotency.check_key(key)


def test_issue16_the_longest_and_the_oddest_printable_keys_are_keys():
    assert idempotency.check_key("~" * 255) and idempotency.check_key(" !{}")


def test_issue16_the_transfer_form_follows_the_rule(acting_as, world):
    """R-TR-5: the form's key found the earlier transfer whatever the details; now the
    same form with other details is refused, and a refused submit keeps no claim."""
    s = world.session
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, stock_car=True)[0]
    buyer = {"email": "koper@example.nl", "last_name": "Koper"}

    def confirm(acting, **details):
        with unit_of_work(s):
            return transfers.confirm_transfer_form(
                s,
                car.id,
                actor=acting.actor,
                person=PersonDetails.from_mapping({**buyer, **details}),
                confirmation_key="form-1",
            ).transfer

    with acting_as("garage-jansen") as acting:
        with pytest.raises(InvalidInput):
            confirm(acting, last_name="")
        assert keys(s) == 0
        first = confirm(acting)
        assert confirm(acting).id == first.id
        with pytest.raises(Conflict):
            confirm(acting, email="ander@example.nl")
    assert s.scalar(select(func.count()).where(Transfer.passport_id == car.id)) == 1


def test_issue16_attack_a_dead_requests_claim_frees_only_if_its_work_never_committed(
    empty_world,
):
    """R-X-4: a claim RUNNING past STALE_AFTER (its process died, nothing committed) runs
    again; one whose work committed is never freed, not by release nor by age."""
    s = empty_world.session
    jansen = Caller("user", factories.garage_login(s, factories.garage(s)).id)
    later = utcnow() + idempotency.STALE_AFTER + timedelta(seconds=1)
    assert claim(s, jansen, key="died") is None
    assert claim(s, jansen, key="died", now=later) is None  # ours again
    assert claim(s, jansen, key="done-work") is None
    with unit_of_work(s):
        idempotency.mark_committed(s, jansen, "done-work")
        idempotency.release(s, jansen, "done-work")
    with pytest.raises(Conflict) as running:
        claim(s, jansen, key="done-work")
    assert "still being handled" in str(running.value.message)
    with pytest.raises(Conflict) as lost:
        claim(s, jansen, key="done-work", now=later)
    assert "answer was lost" in str(lost.value.message)
    with unit_of_work(s):
        idempotency.record_answer(s, jansen, "done-work", CREATED)
    assert claim(s, jansen, key="done-work") == CREATED
    assert keys(s) == 2
