"""Issue 17, "See what it does": JSON logs with a request id, no mailed token in any log."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from admin_app.db import unit_of_work
from admin_app.services import passports as rules
from admin_app.services.passports import PersonDetails
from tests.conftest import DB_KIND
from tests.mails import mail_text

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="logging is database-blind")

ACTIVATE = re.compile(r"/activate/(\S+)")


@pytest.fixture()
def log_lines(app):
    from admin_app.observability import log_handler

    stream = io.StringIO()
    handler = log_handler(app, stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_issue17_a_log_of_the_activation_flow_holds_no_token(app, world, acting_as, log_lines):
    """Token routes are logged with the token replaced by `…`, access logs too."""
    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            passport = rules.create_passport(
                s,
                actor=acting.actor,
                plate="12-LOG-3",
                person=PersonDetails.from_mapping({"email": "log@example.nl", "last_name": "L"}),
            )
        with unit_of_work(s):
            rules.send_passport(s, passport.id, actor=acting.actor)
        token = ACTIVATE.search(mail_text(s)).group(1)
    client = app.test_client()
    assert client.get(f"/activate/{token}").status_code == 200
    client.post(f"/activate/{token}", data={"password": "x", "confirm": "y"})
    # What gunicorn's access log prints, through the same handler; the development
    # server's own access line is dropped (the console logs each request itself).
    access = '%s - - [%s] "%s" %s -', "127.0.0.1", "now", f"GET /activate/{token} HTTP/1.1", 200
    logging.getLogger("gunicorn.access").info(*access)
    logging.getLogger("werkzeug").info(*access)
    lines = log_lines()
    text = json.dumps(lines, ensure_ascii=False)
    assert token not in text
    assert "/activate/…" in text
    assert any(
        line["logger"] == "gunicorn.access" and "/activate/…" in line["message"] for line in lines
    )
    assert not any(line["logger"] == "werkzeug" for line in lines)
    assert any(
        line["logger"] == "admin_app.requests" and line["message"].startswith("POST /activate/…")
        for line in lines
    )


def test_issue17_request_id_is_returned_and_passed_to_the_jobs(app, world, log_lines):
    """A sane X-Request-ID is kept, a bad one replaced; the job it enqueues logs it."""
    client = app.test_client()
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    forged = client.get("/health", headers={"X-Request-ID": 'x" level=ERROR <script>'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])
    assert any(line.get("request_id") == "abc-123" for line in log_lines())

    # A request that enqueues a job (the password-reset mail) hands its id to the worker.
    from admin_app.jobs.worker import ConsoleWorker
    from admin_app.queueing import get_queue, get_redis

    queue = get_queue(app)
    queue.empty()
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        client.get("/forgot-password").get_data(as_text=True),
    )
    data = {"identifier": "admin"}
    if token:
        data["csrf_token"] = token.group(1)
    client.post("/forgot-password", headers={"X-Request-ID": "reset-42"}, data=data)
    jobs = queue.get_jobs()
    assert jobs and all(job.meta.get("request_id") == "reset-42" for job in jobs)
    with app.app_context():
        ConsoleWorker([queue], connection=get_redis(app)).work(burst=True)
    assert any(
        line.get("request_id") == "reset-42" and "started" in line["message"]
        for line in log_lines()
    )


def test_issue17_sentry_sends_no_personal_data_locals_or_bodies(app):
    """Optional SENTRY_DSN: send_default_pii=False, no local variables, no request bodies."""
    import sentry_sdk

    from admin_app.observability import install_sentry

    app.config["SENTRY_DSN"] = "https://public@127.0.0.1:9/1"
    try:
        install_sentry(app)
        options = sentry_sdk.get_client().options
        assert options["dsn"] == "https://public@127.0.0.1:9/1"
        assert options["send_default_pii"] is False
        assert options["include_local_variables"] is False
        assert options["max_request_body_size"] == "never"
    finally:
        app.config["SENTRY_DSN"] = ""
        sentry_sdk.init()  # no DSN: off again for the other tests


def test_issue17_attack_a_request_id_ending_in_a_newline_is_replaced_not_a_500(app, world):
    """X-Request-ID: `$` let "abc\\n" through as sane; writing it back into the response
    header raised, so every page answered 500 to it (and logs got the newline)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/health", environ_base={"HTTP_X_REQUEST_ID": "abc\n"})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_issue17_attack_sentry_gets_no_mailed_token(app, world):
    """Sentry receives the request's URL, query and headers, and the log lines as
    breadcrumbs, taken before the log handler's filter: a token route's token must be `…`
    there too, and the query and Idempotency-Key are not sent."""
    import sentry_sdk
    from flask import request_finished
    from sentry_sdk.transport import Transport

    from admin_app.observability import install_sentry

    sent: list[str] = []

    class Kept(Transport):
        def capture_envelope(self, envelope):
            sent.extend(item.payload.get_bytes().decode() for item in envelope.items)

    def report(sender, response, **extra):
        sentry_sdk.capture_message("seen on a token route")

    app.config["SENTRY_DSN"] = "https://public@127.0.0.1:9/1"
    try:
        install_sentry(app)
        sentry_sdk.get_client().transport = Kept(sentry_sdk.get_client().options)
        with request_finished.connected_to(report, app):
            app.test_client().get(
                "/activate/geheim-token-4711?zoek=Klaassen",
                headers={"Idempotency-Key": "idem-4711"},
            )
        sentry_sdk.flush()
    finally:
        app.config["SENTRY_DSN"] = ""
        sentry_sdk.init()
    assert sent and "/activate/" in "".join(sent)
    assert "geheim-token-4711" not in "".join(sent)
    # A list's search (a customer's name, a plate) and the caller's Idempotency-Key stay too.
    assert "Klaassen" not in "".join(sent) and "idem-4711" not in "".join(sent)


def test_issue17_attack_the_worker_logs_no_typed_reset_name(app, world, log_lines):
    """R-SEC-3: the name or e-mail typed on /forgot-password (at times a password typed in
    the wrong field) was the reset job's argument, so rq's worker printed it in its
    "started" and "completed" lines, with the arguments of any failed job, and
    rq-dashboard showed it to Admin."""
    from rq.job import Job

    from admin_app.jobs.accounts import mail_password_reset
    from admin_app.jobs.worker import ConsoleWorker
    from admin_app.queueing import get_queue, get_redis

    queue = get_queue(app)
    queue.empty()
    client = app.test_client()
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        client.get("/forgot-password").get_data(as_text=True),
    )
    client.post(
        "/forgot-password", data={"identifier": "Geheim@Example.nl", "csrf_token": token.group(1)}
    )
    (job,) = queue.get_jobs()
    assert "Geheim@Example.nl" not in job.description
    # A job that fails: rq logs its arguments with the error.
    failing = queue.enqueue(
        mail_password_reset, "Geheim@Example.nl", onbekend=1, description=job.description
    )
    with app.app_context():
        ConsoleWorker([queue], connection=get_redis(app)).work(burst=True)
    assert Job.fetch(failing.id, connection=get_redis(app)).is_failed
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert "mail_password_reset" in text and "Geheim@Example.nl" not in text
