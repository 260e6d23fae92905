"""Delivering webhook events (issue 16), in the worker.

Delivery is at least once: each delivery is claimed (pending → sending) just before it is
posted, in its own commit (jobs/claiming), so two workers never send the same attempt,
however slow the receivers before it; a worker that dies after the claim leaves a stale
claim that a later run takes over. Receivers deduplicate by ``webhook-id``, the same on
every attempt of an event.

The request goes to the address that was vetted just before (services/webhooks.vet_url),
with SNI and Host from the URL: a second DNS lookup could answer with an internal
address. http.client reads no proxy environment variables and follows no redirect.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import delete, select

from admin_app.extensions import db
from admin_app.jobs.claiming import claim_next
from admin_app.models.base import utcnow
from admin_app.models.webhooks import DeliveryState, WebhookDelivery, WebhookEvent
from admin_app.services import webhooks as rules

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=5)
TOTAL_SECONDS = 5.0  # connect, TLS, request and answer together
MAX_ANSWER = 64 * 1024
KEPT_ANSWER = 1024


# --- the HTTP request --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: bytes
    milliseconds: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a given address (only with WEBHOOK_ALLOW_PRIVATE, in tests)."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a given address, with the URL's host name for SNI and the certificate."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _abort(connection) -> None:
    # The 5 seconds are over: a receiver dripping its answer byte by byte would keep each
    # read under the socket's timeout.
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(vetted: rules.VettedUrl, headers: dict, body: bytes) -> Answer:
    """POST ``body`` to the vetted address; ≤ 5 s in all, ≤ 64 KB of answer read."""
    started = time.monotonic()
    connection_class = _PinnedHTTPSConnection if vetted.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(vetted.host, vetted.port, vetted.addresses[0], TOTAL_SECONDS)
    timer = threading.Timer(TOTAL_SECONDS, _abort, [connection])
    timer.start()
    try:
        connection.request("POST", vetted.target, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER)
        status = response.status
        error = None
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        status, answer, error = None, b"", f"{type(exc).__name__}: {exc}"
    finally:
        timer.cancel()
        connection.close()
    elapsed = time.monotonic() - started
    if error is not None and elapsed >= TOTAL_SECONDS:
        error = f"no answer within {TOTAL_SECONDS:g} s"
    return Answer(status, answer, int(elapsed * 1000), error)


def headers_for(hook_event: WebhookEvent, secrets: list[str], body: bytes) -> dict:
    timestamp = int(time.time())
    signatures = " ".join(
        rules.sign(secret, hook_event.message_id, timestamp, body) for secret in secrets
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": "Garageconsole-Webhooks/1",
        "webhook-id": hook_event.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


# --- claiming and recording --------------------------------------------------------------


def _claim_next(session, now: datetime) -> WebhookDelivery | None:
    """Claim the next due delivery (or one whose claim went stale) for this worker alone,
    just before it is posted (jobs/claiming)."""
    return claim_next(
        session,
        WebhookDelivery,
        now=now,
        stale_after=STALE_CLAIM,
        waiting=DeliveryState.pending.value,
        busy=DeliveryState.sending.value,
    )


def _backoff(attempts: int) -> timedelta:
    steps = current_app.config["WEBHOOK_BACKOFF"]
    return timedelta(seconds=steps[min(attempts - 1, len(steps) - 1)])


def _failed(session, delivery: WebhookDelivery, now: datetime) -> None:
    endpoint = delivery.endpoint
    endpoint.failing_since = endpoint.failing_since or now
    if endpoint.enabled and endpoint.failing_since <= now - rules.RETRY_FOR:
        delivery.state = DeliveryState.failed.value
        rules.switch_off_failing(session, endpoint, now)
        return
    next_attempt = now + _backoff(delivery.attempts)
    if next_attempt > delivery.give_up_at:
        delivery.state = DeliveryState.failed.value
    else:
        delivery.state = DeliveryState.pending.value
        delivery.next_attempt_at = next_attempt


def _record(session, delivery: WebhookDelivery, answer: Answer, now: datetime) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.claimed_at = None
    delivery.last_status = answer.status
    delivery.response_ms = answer.milliseconds
    delivery.response_body = answer.body[:KEPT_ANSWER].decode("utf-8", "replace")[:KEPT_ANSWER]
    delivery.error = (answer.error or "")[:500] or None
    if answer.ok:
        delivery.state = DeliveryState.delivered.value
        delivery.endpoint.failing_since = None
    else:
        if answer.status is not None and not answer.error:
            delivery.error = f"HTTP {answer.status}"
        _failed(session, delivery, now)


def _refused(message) -> Answer:
    return Answer(None, b"", 0, str(message))


def deliver_one(session, delivery: WebhookDelivery, now: datetime) -> None:
    """One attempt of a claimed delivery, recorded (the caller commits)."""
    endpoint, hook_event = delivery.endpoint, delivery.event
    if not endpoint.enabled:
        delivery.state = DeliveryState.cancelled.value
        delivery.claimed_at = None
        return
    try:
        secrets = rules.signing_secrets(endpoint, now)
    except InvalidToken:
        _record(session, delivery, _refused("the secret is unreadable: rotate it"), now)
        return
    try:
        # Vetted again now: a name may point elsewhere since it was registered.
        vetted = rules.vet_url(endpoint.url)
    except rules.WebhookRefused as refusal:
        _record(session, delivery, _refused(refusal.message), now)
        return
    body = rules.body_of(hook_event)
    answer = post(vetted, headers_for(hook_event, secrets, body), body)
    _record(session, delivery, answer, now)


def deliver_due(now: datetime | None = None) -> int:
    """Deliver every due delivery (oldest first); returns how many were delivered.
    ``now`` is for tests that move the clock; a worker claims each at its own time."""
    session = db.session
    delivered = 0
    while True:
        delivery = _claim_next(session, now or utcnow())
        if delivery is None:
            break
        deliver_one(session, delivery, now or utcnow())
        delivered += delivery.state == DeliveryState.delivered.value
        # Commit per delivery: a crash later must not resend what went out.
        session.commit()
    return delivered


def purge_old(now: datetime | None = None) -> int:
    """Delivery logs and events older than 30 days go (issue 16); returns deliveries gone."""
    session = db.session
    before = (now or utcnow()) - rules.KEEP_LOG
    gone = session.execute(
        delete(WebhookDelivery)
        .where(
            WebhookDelivery.created_at < before,
            WebhookDelivery.state != DeliveryState.sending.value,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        delete(WebhookEvent)
        .where(
            WebhookEvent.created_at < before,
            ~WebhookEvent.id.in_(select(WebhookDelivery.event_id)),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return gone
