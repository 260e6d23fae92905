"""Issue 16 (R-X-4, R-TR-5): every API POST takes `Idempotency-Key` — the same request
again gets the first answer and does nothing; another body is 422; a request while the
first still runs is 409; keys are the caller's and live 24 hours."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from admin_app.models import (
    AuditLog,
    BatchJob,
    IdempotencyKey,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.base import utcnow
from tests.api.test_batch_job_api import DATA
from tests.conftest import DB_KIND

NEW = {"plate": "x-999-zz", "email": "nieuw.klant@example.nl", "last_name": "Klant"}
BUYER = {"email": "koper@example.nl", "last_name": "Koper"}


def key(value: str) -> dict:
    return {"Idempotency-Key": value}


def count(world, statement) -> int:
    world.session.expire_all()
    return world.session.scalar(select(func.count()).select_from(statement.subquery()))


def stock_car(world, garage: str) -> Passport:
    return world.passports(garage_id=world.garage(garage).id, stock_car=True)[0]


def test_issue16_the_same_create_again_gives_the_first_answer(world, api_client):
    api = api_client("garage-jansen")
    first = api.post("/api/v1/passport/", json=NEW, headers=key("create-1"))
    assert first.status_code == 201, first.get_json()
    audit_rows = count(world, select(AuditLog))
    # The same data, keys in another order: the same request.
    again = api.post("/api/v1/passport/", json=dict(reversed(NEW.items())), headers=key("create-1"))
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(world, select(Passport).where(Passport.plate == "X999ZZ")) == 1
    assert count(world, select(AuditLog)) == audit_rows  # the replay did nothing


def test_issue16_another_body_with_the_key_is_422_in_dutch_and_english(world, api_client):
    api = api_client("garage-jansen")
    api.post("/api/v1/passport/", json=NEW, headers=key("create-1"))
    other = {**NEW, "plate": "x-998-zz"}
    dutch = api.post("/api/v1/passport/", json=other, headers=key("create-1"))
    assert dutch.status_code == 422
    assert dutch.get_json() == {
        "message": "Deze Idempotency-Key is al gebruikt voor een ander verzoek; stuur bij "
        "een nieuw verzoek een nieuwe sleutel.",
        "errors": {"Idempotency-Key": [dutch.get_json()["message"]]},
    }
    english = api.post("/api/v1/passport/?_l_=en", json=other, headers=key("create-2"))
    assert english.status_code == 201  # another key: another request
    path = f"/api/v1/passport/{english.get_json()['id']}/archive?_l_=en"
    assert (
        api.post(path, headers=key("create-2"))
        .get_json()["message"]
        .startswith("This Idempotency-Key was used for another request")
    )
    assert count(world, select(Passport).where(Passport.plate == "X998ZZ")) == 1


@pytest.mark.skipif(DB_KIND != "sqlite", reason="refused before the database: SQLite only")
@pytest.mark.parametrize("bad", ["", "x" * 256, "sleutel-é"])
def test_issue16_a_key_that_is_not_printable_ascii_is_400(world, api_client, bad):
    response = api_client("garage-jansen").post(
        "/api/v1/passport/", json=NEW, headers={"Idempotency-Key": bad.encode().decode("latin-1")}
    )
    assert response.status_code == 400
    assert set(response.get_json()) == {"message", "errors"}
    assert "ASCII" in response.get_json()["message"]
    assert count(world, select(Passport).where(Passport.plate == "X999ZZ")) == 0


def test_issue16_another_callers_same_key_is_his_own(world, api_client):
    jansen, devries = api_client("garage-jansen"), api_client("garage-devries")
    mine = jansen.post("/api/v1/passport/", json=NEW, headers=key("k"))
    theirs = devries.post("/api/v1/passport/", json={**NEW, "plate": "x-997-zz"}, headers=key("k"))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_issue16_after_24_hours_the_key_runs_again(world, api_client):
    api = api_client("garage-jansen")
    first = api.post("/api/v1/passport/", json=NEW, headers=key("k"))
    passport_id = first.get_json()["id"]
    assert api.post(f"/api/v1/passport/{passport_id}/archive", headers=key("a")).status_code == 200
    # A day later, as the clock has it: the row is ignored until the clock purges it.
    world.session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    world.session.commit()
    again = api.post("/api/v1/passport/", json=NEW, headers=key("k"))
    assert again.status_code == 201 and again.get_json()["id"] != passport_id


def test_issue16_a_refusal_is_kept_a_crash_frees_the_key(world, api_client, app, monkeypatch):
    """A 4xx is the request's outcome: sent again it is the same 4xx, even once it would
    succeed. A request that raised leaves no key behind: its retry runs."""
    from admin_app.services import passports

    api = api_client("garage-jansen")
    car = api.post("/api/v1/passport/", json=NEW).get_json()["id"]
    archive = f"/api/v1/passport/{car}/archive"

    def crash(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(passports, "archive_passport", crash)
    with pytest.raises(RuntimeError):
        api.post(archive, headers=key("crash"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert api.post(archive, headers=key("crash")).status_code == 500
    assert count(world, select(IdempotencyKey)) == 0
    monkeypatch.undo()
    assert api.post(archive, headers=key("crash")).status_code == 200
    assert api.post(archive, headers=key("twice")).status_code == 409  # archived already
    assert count(world, select(IdempotencyKey).where(IdempotencyKey.state == "done")) == 2


def test_issue16_two_at_once_make_one_passport(world, api_client, app):
    """Two threads, each with its own request and database connection: one runs; the
    other is told it still runs (409) or, once done, gets its answer."""
    headers = {
        "Authorization": api_client("garage-jansen").environ_base["HTTP_AUTHORIZATION"],
        **key("together"),
    }
    start, answers = threading.Barrier(2), [None, None]

    def slow_write(session, flush_context, instances):
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.3)  # the first holds its claim while the second arrives

    def one(index: int) -> None:
        start.wait()
        answers[index] = app.test_client().post("/api/v1/passport/", json=NEW, headers=headers)

    event.listen(Session, "before_flush", slow_write)
    try:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(Session, "before_flush", slow_write)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 201], [201, 409]), [a.get_json() for a in answers]
    if statuses == [201, 201]:
        assert answers[0].get_json() == answers[1].get_json()
    else:
        refused = next(a for a in answers if a.status_code == 409).get_json()
        assert "wordt nog verwerkt" in refused["message"]
    assert count(world, select(Passport).where(Passport.plate == "X999ZZ")) == 1
    assert count(world, select(IdempotencyKey)) == 1


def test_issue16_a_customer_list_sent_again_is_one_job(world, api_client):
    """Multipart: the same file and fields, with another boundary, is the same request."""
    api = api_client("garage-devries")
    content = (DATA / "klantenlijst-met-fouten.csv").read_bytes()

    def upload(data: bytes):
        return api.post(
            "/api/v1/batch_job/",
            data={"file": (io.BytesIO(data), "lijst.csv"), "send_to_customers": "false"},
            content_type="multipart/form-data",
            headers=key("list-1"),
        )

    first, again = upload(content), upload(content)
    assert first.status_code == 201 and again.get_json() == first.get_json()
    assert upload(content + b"\r\n").status_code == 422  # another file, the same key
    assert count(world, select(BatchJob)) == 1


def test_issue16_the_transfer_follows_the_rule(world, api_client):
    """R-TR-5: the transfer's key was looked up across garages, forever, whatever the
    body. Now: the same request gets its transfer (no second mail), another body 422,
    another garage's same key is its own."""
    jansen, devries = api_client("garage-jansen"), api_client("garage-devries")
    car = stock_car(world, "Autobedrijf Jansen")
    path = f"/api/v1/passport/{car.id}/transfer"
    first = jansen.post(path, json=BUYER, headers=key("tab-1"))
    assert first.status_code == 200, first.get_json()
    mails = count(world, select(OutboxMessage))
    again = jansen.post(path, json=BUYER, headers=key("tab-1"))
    assert again.get_json() == first.get_json()
    other = jansen.post(path, json={**BUYER, "email": "ander@example.nl"}, headers=key("tab-1"))
    assert other.status_code == 422
    assert count(world, select(OutboxMessage)) == mails
    assert count(world, select(Transfer).where(Transfer.passport_id == car.id)) == 1

    theirs = stock_car(world, "Garage De Vries")
    own = devries.post(f"/api/v1/passport/{theirs.id}/transfer", json=BUYER, headers=key("tab-1"))
    assert own.status_code == 200, own.get_json()
    assert own.get_json()["result"]["passport_id"] == theirs.id


def test_issue16_attack_a_login_whose_rights_went_gets_no_stored_answer(world, api_client):
    """R-X-4, R-SEC-1: a stored answer is given only to a caller who may still make the
    request: a login whose Garage role was taken away gets the endpoint's refusal, not
    its create replayed (and no refusal is kept under the key)."""
    from admin_app.services.accounts import find_role

    api = api_client("garage-jansen")
    first = api.post("/api/v1/passport/", json=NEW, headers=key("create-1"))
    assert first.status_code == 201
    jansen = world.user("garage-jansen")
    jansen.roles = [find_role(world.session, "Owner")]
    world.session.commit()
    again = api.post("/api/v1/passport/", json=NEW, headers=key("create-1"))
    assert again.status_code in (403, 404), again.status_code
    assert "Idempotent-Replayed" not in again.headers
    assert count(world, select(IdempotencyKey).where(IdempotencyKey.state == "done")) == 1


def test_issue16_attack_a_process_dying_mid_request_does_not_lock_its_key_for_a_day(
    world, api_client
):
    """R-X-4: a web process killed during a request (gunicorn's timeout, a deploy) left
    its key running: 409 for 24 hours. A claim older than any request may run, whose work
    never committed, is free again; one whose work committed is not run a second time."""
    from admin_app.services.idempotency import STALE_AFTER

    api = api_client("garage-jansen")
    jansen = world.user("garage-jansen")
    long_ago = utcnow() - STALE_AFTER - timedelta(seconds=1)

    def left_behind(name: str, state: str) -> None:
        world.session.add(
            IdempotencyKey(
                user_id=jansen.id,
                key=name,
                fingerprint=fingerprint_of(NEW),
                state=state,
                created_at=long_ago,
                expires_at=long_ago + timedelta(hours=24),
            )
        )
        world.session.commit()

    left_behind("died-before-commit", "running")
    retried = api.post("/api/v1/passport/", json=NEW, headers=key("died-before-commit"))
    assert retried.status_code == 201, retried.get_json()
    assert count(world, select(Passport).where(Passport.plate == "X999ZZ")) == 1

    # The work committed, then the process died before keeping its answer: not again.
    world.session.execute(update(Passport).where(Passport.plate == "X999ZZ").values(plate="X997ZZ"))
    world.session.commit()
    left_behind("died-after-commit", "committed")
    lost = api.post("/api/v1/passport/", json=NEW, headers=key("died-after-commit"))
    assert lost.status_code == 409
    assert "antwoord ging verloren" in lost.get_json()["message"]
    assert count(world, select(Passport).where(Passport.plate == "X999ZZ")) == 0


def test_issue16_attack_the_work_committed_marks_its_key(world, api_client, app, monkeypatch):
    """R-X-4: the work's own transaction notes that it committed; a failure after that
    (a 5xx) does not free the key for a second run."""
    from admin_app.api import resources

    api = api_client("garage-jansen")

    def crash_after_commit(self, *args, **kwargs):
        raise RuntimeError("the answer could not be made")

    monkeypatch.setattr(resources.PassportApi, "one", crash_after_commit)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert api.post("/api/v1/passport/", json=NEW, headers=key("half")).status_code == 500
    monkeypatch.undo()
    again = api.post("/api/v1/passport/", json=NEW, headers=key("half"))
    assert again.status_code == 409  # the key's answer, not a second create's refusal
    assert "Idempotency-Key" in again.get_json()["errors"], again.get_json()
    assert count(world, select(Passport).where(Passport.plate == "X999ZZ")) == 1


def fingerprint_of(body: dict) -> str:
    from admin_app.services import idempotency

    return idempotency.fingerprint("POST", "/api/v1/passport/", idempotency.canonical_json(body))
