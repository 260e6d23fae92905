"""Issue 16, signed webhooks delivered by the worker to a REAL HTTP receiver (a threaded
http.server on 127.0.0.1, allowed by WEBHOOK_ALLOW_PRIVATE for these tests only)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from admin_app.extensions import db
from admin_app.jobs import webhooks as delivery_job
from admin_app.models import OutboxMessage, WebhookDelivery, WebhookEndpoint, WebhookEvent
from admin_app.models.base import utcnow
from admin_app.services import webhooks
from admin_app.services.audit import Actor
from tests.conftest import DB_KIND
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.skipif(
    DB_KIND != "sqlite", reason="HTTP delivery; the claim's SQL is the outbox's"
)


@pytest.fixture()
def private_allowed(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False


def _endpoint(app, world, url, events=("passport.sent",)):
    garage = world.garage("Autobedrijf Jansen")
    actor = Actor(1, "garage-jansen", roles=frozenset({"Garage"}), garage_id=garage.id)
    with app.app_context():
        endpoint, secret = webhooks.register_endpoint(
            db.session, url=url, events=list(events), actor=actor
        )
        db.session.commit()
        return endpoint.id, garage.id, secret


def _emit(app, garage_id, count=1, type="passport.sent"):
    with app.app_context():
        for n in range(count):
            webhooks.emit(db.session, garage_id, type, {"id": n, "plate": f"{n:06d}"})
        db.session.commit()


def _deliver(app, now=None):
    with app.app_context():
        try:
            return delivery_job.deliver_due(now)
        finally:
            db.session.remove()


def test_issue16_delivery_is_signed_as_standard_webhooks_and_verifies(app, world, private_allowed):
    """Issue 16: body {type, timestamp, data}; webhook-id/-timestamp/-signature verified
    with the standardwebhooks package; the log keeps status, time and the answer."""
    with Receiver() as receiver:
        endpoint_id, garage_id, secret = _endpoint(app, world, receiver.url)
        _emit(app, garage_id)
        assert _deliver(app) == 1
    ((headers, body),) = receiver.requests
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "passport.sent" and payload["data"] == {"id": 0, "plate": "000000"}
    assert payload["timestamp"].endswith("Z")
    assert headers["webhook-id"].startswith("msg_")
    assert int(headers["webhook-timestamp"]) > 1_700_000_000
    delivery = world.session.scalars(select(WebhookDelivery)).one()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.response_body == "ok" and delivery.response_ms is not None


def test_issue16_retry_after_500_keeps_the_webhook_id(app, world, private_allowed):
    """Issue 16: a 500 is retried with backoff; the retry carries the same webhook-id."""
    with Receiver() as receiver:
        receiver.statuses.extend([500])
        _, garage_id, secret = _endpoint(app, world, receiver.url)
        _emit(app, garage_id)
        assert _deliver(app) == 0
        delivery = world.session.scalars(select(WebhookDelivery)).one()
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
        assert len(delivery.response_body) == 1024  # the first 1 KB of the answer
        assert _deliver(app) == 0  # not due yet
        assert _deliver(app, delivery.next_attempt_at + timedelta(seconds=1)) == 1
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    Webhook(secret).verify(second[1], second[0])
    world.session.expire_all()
    delivery = world.session.scalars(select(WebhookDelivery)).one()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert world.session.get(WebhookEndpoint, delivery.endpoint_id).failing_since is None


def test_issue16_endpoint_failing_24_hours_is_disabled_and_the_garage_mailed(
    app, world, private_allowed
):
    """Issue 16: retries for 24 h (time moved, not slept); then switched off, mail queued."""
    with Receiver() as receiver:
        receiver.statuses.extend([503] * 50)
        endpoint_id, garage_id, _ = _endpoint(app, world, receiver.url)
        _emit(app, garage_id)
        now = utcnow()
        first = world.session.scalars(select(WebhookDelivery)).one()
        while first.state == "pending":  # each retry when it is due: 5 s … 10 h apart
            _deliver(app, now)
            world.session.expire_all()
            first = world.session.get(WebhookDelivery, first.id)
            now = max(now, first.next_attempt_at)
        # The delivery's 24 hours are over; the endpoint has failed for less than that.
        assert first.state == "failed" and first.attempts == 7
        assert world.session.get(WebhookEndpoint, endpoint_id).enabled
        later = first.created_at + timedelta(hours=24, minutes=1)
        with app.app_context():
            webhooks.emit(db.session, garage_id, "passport.sent", {"id": 1}, now=later)
            db.session.commit()
        _deliver(app, later)
    world.session.expire_all()
    endpoint = world.session.get(WebhookEndpoint, endpoint_id)
    assert not endpoint.enabled and endpoint.disabled_reason == "failing"
    assert endpoint.disabled_at - endpoint.failing_since >= timedelta(hours=24)
    mail = world.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "webhook_disabled")
    ).one()
    assert mail.recipient == world.garage("Autobedrijf Jansen").email
    from tests.mails import mail_text

    assert receiver.url in mail_text(world.session, mail)
    sent = len(receiver.requests)
    _emit(app, garage_id)
    assert _deliver(app, now + timedelta(days=1)) == 0 and len(receiver.requests) == sent


def test_issue16_no_delivery_to_loopback_without_the_setting(app, world, private_allowed):
    """Issue 16: the address is vetted at every delivery; 127.0.0.1 is refused."""
    with Receiver() as receiver:
        _, garage_id, _ = _endpoint(app, world, receiver.url)
        _emit(app, garage_id)
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        assert _deliver(app) == 0
    assert receiver.requests == []
    delivery = world.session.scalars(select(WebhookDelivery)).one()
    # Refused before any connection (http, then the address), and retried later.
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, None)
    assert "https://" in delivery.error


def test_issue16_rotation_sends_both_signatures_during_the_overlap(app, world, private_allowed):
    """Issue 16: after a rotation both secrets verify for 24 h; then only the new one."""
    with Receiver() as receiver:
        endpoint_id, garage_id, old = _endpoint(app, world, receiver.url)
        actor = Actor(1, "g", roles=frozenset({"Garage"}), garage_id=garage_id)
        with app.app_context():
            _, new = webhooks.rotate_secret(db.session, endpoint_id, actor=actor)
            db.session.commit()
        _emit(app, garage_id)
        _deliver(app)
        _emit(app, garage_id)
        _deliver(app, utcnow() + timedelta(hours=25))
    (during_headers, during_body), (after_headers, after_body) = receiver.requests
    assert len(during_headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during_body, during_headers)
    Webhook(new).verify(during_body, during_headers)
    assert len(after_headers["webhook-signature"].split(" ")) == 1


def test_issue16_two_workers_200_events_200_deliveries(app, world, private_allowed):
    """Issue 16: two workers claim with a conditional UPDATE: 200 events, 200 requests,
    each webhook-id once."""
    with Receiver() as receiver:
        _, garage_id, _ = _endpoint(app, world, receiver.url)
        _emit(app, garage_id, count=200)
        threads = [threading.Thread(target=_deliver, args=(app,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert (
        world.session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.state == "delivered")
        )
        == 200
    )


def test_issue16_logs_older_than_30_days_are_purged(app, world, private_allowed):
    with Receiver() as receiver:
        _, garage_id, _ = _endpoint(app, world, receiver.url)
        _emit(app, garage_id, count=2)
        _deliver(app)
    with app.app_context():
        assert delivery_job.purge_old(utcnow() + timedelta(days=29)) == 0
        assert delivery_job.purge_old(utcnow() + timedelta(days=31)) == 2
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_issue16_a_customer_list_raises_no_per_passport_events_done_carries_rows_url(
    app, world, private_allowed
):
    """Issue 16: a list's passports raise nothing each; batch_job.done has counts + URL."""
    from admin_app.models import BatchJob
    from admin_app.services.batch_jobs import announce_job

    _, garage_id, _ = _endpoint(app, world, "http://127.0.0.1:9/x", events=webhooks.EVENT_TYPES)
    job = BatchJob(
        garage_id=garage_id,
        filename="lijst.csv",
        uploaded_by="x",
        state="done",
        total_rows=3,
        done_rows=3,
        counts={"created": 3},
    )
    world.session.add(job)
    world.session.commit()
    with app.app_context():
        announce_job(db.session, db.session.get(BatchJob, job.id))
        db.session.commit()
    hook_event = world.session.scalars(select(WebhookEvent)).one()
    assert hook_event.type == "batch_job.done"
    assert hook_event.data["counts"] == {"created": 3}
    assert hook_event.data["rows_url"] == f"http://localhost/api/v1/batch_job/{job.id}/rows"
    body = json.loads(webhooks.body_of(hook_event))
    assert set(body) == {"type", "timestamp", "data"}


def _certificate(tmp_path, host):
    """A self-signed certificate for ``host``, trusted through SSL_CERT_FILE."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_issue16_https_goes_to_the_vetted_address_with_sni_and_host_from_the_url(
    app, world, private_allowed, tmp_path, monkeypatch
):
    """Issue 16: the worker connects to the address it vetted (no second lookup) over TLS,
    the certificate checked for the URL's name (SNI), Host from the URL; proxies ignored."""
    import socket
    import ssl

    host = "gms.garage.test"
    cert_path, key_path = _certificate(tmp_path, host)
    seen_names = []
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def resolver(name, port, *args, **kwargs):
        lookups.append(name)
        return real_getaddrinfo("127.0.0.1" if name == host else name, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # would fail if it were used
    with Receiver() as receiver:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.sni_callback = lambda sock, name, ctx: seen_names.append(name)
        receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
        url = f"https://{host}:{receiver.server.server_port}/hooks"
        _, garage_id, secret = _endpoint(app, world, url)
        _emit(app, garage_id)
        lookups.clear()
        assert _deliver(app) == 1
    ((headers, body),) = receiver.requests
    Webhook(secret).verify(body, headers)
    assert headers["Host"] == f"{host}:{receiver.server.server_port}"
    assert seen_names == [host]
    # The name is looked up once, by the vetting; the connection used its answer (the
    # literal address, which create_connection "resolves" without DNS).
    assert lookups == [host, "127.0.0.1"]


def test_issue16_handed_to_the_worker_after_commit_and_the_clock_covers_a_lost_hand_over(
    app, world, private_allowed
):
    """Issue 16: the commit queues the delivery job (rq); without it the clock's tick
    delivers what is due."""
    from admin_app.jobs.clock import tick
    from tests.mails import run_queued

    with Receiver() as receiver:
        _, garage_id, _ = _endpoint(app, world, receiver.url)
        run_queued(app, delivery_job.deliver_due, perform=False)  # earlier tests' jobs
        _emit(app, garage_id)
        assert run_queued(app, delivery_job.deliver_due) >= 1
        assert len(receiver.requests) == 1
        _emit(app, garage_id)
        run_queued(app, delivery_job.deliver_due, perform=False)  # the hand-over is lost
        tick(app)
        assert len(receiver.requests) == 2


def test_issue17_each_delivery_is_claimed_just_before_it_is_posted(
    app, engine, world, private_allowed
):
    """Issue 17 (never twice): with a slow receiver, the deliveries waiting behind the one
    being posted stay unclaimed, so none of them can go stale and be posted by a second
    worker (they were claimed 200 at a time under one timestamp)."""
    from sqlalchemy.orm import Session

    claimed_while_posting = []

    def count_claimed():
        with Session(bind=engine) as look:
            claimed_while_posting.append(
                look.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.state == "sending")
                )
            )

    with Receiver() as receiver:
        receiver.on_request = count_claimed
        _, garage_id, _ = _endpoint(app, world, receiver.url)
        _emit(app, garage_id, count=3)
        assert _deliver(app) == 3
    assert claimed_while_posting == [1, 1, 1]
