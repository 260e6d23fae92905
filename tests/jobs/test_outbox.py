"""R-X-1 and R-PP-5: mail goes out through the outbox, over real SMTP.

Only 550/551/553 at RCPT marks an address bounced; other failures are retried with the
configured backoff, and nothing is lost while the mail server is down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import Customer, OutboxMessage
from admin_app.models.base import utcnow
from admin_app.services.outbox import queue_mail
from tests.mailsink import MailSink, free_port


@pytest.fixture()
def smtp(app):
    sink = MailSink().start()
    old = (app.config["SMTP_HOST"], app.config["SMTP_PORT"])
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
    yield sink
    app.config.update(SMTP_HOST=old[0], SMTP_PORT=old[1])
    sink.stop()


def _queue(app, world, recipients):
    """Reset mails (a real kind, written at send time) to a login at each address: delivery
    is the test."""
    from admin_app.services.accounts import create_login

    with app.app_context():
        from admin_app.extensions import db

        with unit_of_work(db.session):
            ids = []
            for r in recipients:
                login = create_login(
                    db.session,
                    username=r,  # an Owner is named by his address
                    email=r,
                    first_name="Test",
                    last_name=r,
                    role_name="Owner",
                )
                mail = queue_mail(
                    db.session,
                    recipient=r,
                    kind="password_reset",
                    subject=f"Test {r}",
                    params={"user_id": login.id, "welcome": False},
                )
                ids.append(mail.id)
        db.session.remove()
    return ids


def _deliver(app, now=None):
    from admin_app.extensions import db
    from admin_app.jobs.mail import deliver_due

    with app.app_context():
        try:
            return deliver_due(now)
        finally:
            db.session.remove()


def _states(world, ids):
    world.session.expire_all()
    return {
        m.recipient: m
        for m in world.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    }


def test_r_x_1_queued_mail_is_delivered_once(app, world, smtp):
    ids = _queue(app, world, ["jan@example.nl", "piet@example.nl"])
    waiting = len(
        world.session.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")).all()
    )  # the demo's mails, and ours
    assert _deliver(app) == waiting
    assert _deliver(app) == 0  # nothing due any more
    states = _states(world, ids)
    assert {m.state for m in states.values()} == {"sent"}
    assert all(m.sent_at and m.attempts == 1 for m in states.values())
    ours = [m.rcpt_tos[0] for m in smtp.messages if m.rcpt_tos[0] in states]
    assert sorted(ours) == ["jan@example.nl", "piet@example.nl"]
    assert "Test jan@example.nl" in "".join(smtp.texts())


@pytest.mark.parametrize("prefix, code", [("bounce", 550), ("gone", 551), ("badbox", 553)])
def test_r_pp_5_refusal_at_rcpt_marks_the_address_bounced(app, world, smtp, prefix, code):
    customer = world.session.scalars(select(Customer).order_by(Customer.id)).first()
    address = f"{prefix}@example.nl"
    customer.email = address.upper()  # the same customer, in capitals
    world.session.commit()
    ids = _queue(app, world, [address])
    _deliver(app)
    message = _states(world, ids)[address]
    assert message.state == "bounced" and str(code) in message.last_error
    assert world.session.get(Customer, customer.id).email_bounced_at is not None


@pytest.mark.parametrize("prefix, code", [("auth535", 535), ("busy", 451)])
def test_r_pp_5_other_refusals_are_retried_not_bounced(app, world, smtp, prefix, code):
    customer = world.session.scalars(select(Customer).order_by(Customer.id)).first()
    address = f"{prefix}@example.nl"
    customer.email = address
    world.session.commit()
    ids = _queue(app, world, [address])
    _deliver(app)
    message = _states(world, ids)[address]
    assert message.state == "pending" and message.attempts == 1
    assert str(code) in message.last_error
    assert message.next_attempt_at > utcnow()
    assert world.session.get(Customer, customer.id).email_bounced_at is None


def test_r_x_1_backoff_then_failed_after_max_attempts(app, world, smtp):
    ids = _queue(app, world, ["busy@example.nl"])
    now = utcnow()
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
        _deliver(app, now)
        message = _states(world, ids)["busy@example.nl"]
        if message.state == "failed":
            break
        assert message.next_attempt_at > now
        now = message.next_attempt_at + timedelta(seconds=1)
    assert message.state == "failed" and message.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]


def test_r_x_1_without_smtp_host_mail_stays_visible_as_not_sent(app, world, login_as):
    assert not app.config["SMTP_HOST"]
    ids = _queue(app, world, ["wacht@example.nl"])
    assert _deliver(app) == 0
    assert _states(world, ids)["wacht@example.nl"].state == "pending"
    page = login_as("support").get("/outbox/list/").get_data(as_text=True)
    assert "wacht@example.nl" in page and "Niet verzonden" in page
    assert "reset-password" not in page  # no link is ever shown (none is stored)


def test_r_x_1_mail_is_only_written_with_its_cause(app, world):
    """A rolled-back cause leaves no mail behind."""
    from admin_app.extensions import db

    before = world.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
    with app.app_context(), pytest.raises(RuntimeError):
        with unit_of_work(db.session):
            queue_mail(db.session, recipient="x@example.nl", kind="t", subject="s", params={})
            raise RuntimeError("cause failed")
    after = world.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
    assert after == before


def _worker_env(app, port):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port),
        TICK_SECONDS="0.5",
        OUTBOX_BACKOFF="1,1,2",
        OUTBOX_MAX_ATTEMPTS="100",
        CONSOLE_ENV="development",
        SECRET_KEY=app.config["SECRET_KEY"],  # not instance/secret_key: `make run` makes that
        RQ_QUEUE=app.config["RQ_QUEUE"],
    )
    return env


def test_r_x_1_mail_server_down_then_up_delivers_each_exactly_once(app, world):
    port = free_port()
    recipients = [f"klant{i}@example.nl" for i in range(5)]
    ids = _queue(app, world, recipients)
    worker = subprocess.Popen(
        [sys.executable, "-m", "admin_app.jobs.worker"],
        env=_worker_env(app, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sink = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = _states(world, ids)
            if all(m.attempts >= 1 for m in states.values()):
                break
            time.sleep(0.3)
        assert {m.state for m in states.values()} == {"pending"}, "kept while the server is down"
        assert all(m.last_error for m in states.values())

        sink = MailSink(port).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if {m.state for m in _states(world, ids).values()} == {"sent"}:
                break
            time.sleep(0.3)
        assert {m.state for m in _states(world, ids).values()} == {"sent"}
        time.sleep(2)  # would a second copy still arrive?
        delivered = sorted(m.rcpt_tos[0] for m in sink.messages if m.rcpt_tos[0] in recipients)
        assert delivered == sorted(recipients)  # each once: no copy lost, none doubled
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        if sink:
            sink.stop()
