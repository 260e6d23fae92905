"""A garage's webhook endpoints (issue 16): registered, changed, switched off and on, their
secret rotated, their delivery log read and a delivery sent again."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from cryptography.fernet import InvalidToken
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from admin_app.db import count_of
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import Garage
from admin_app.models.base import utcnow
from admin_app.models.webhooks import DeliveryState, WebhookDelivery, WebhookEndpoint
from admin_app.scope import get_across_tenants, scoped_get
from admin_app.services.audit import Actor
from admin_app.services.outbox import queue_mail
from admin_app.services.webhooks.addresses import vet_url
from admin_app.services.webhooks.events import EVENT_TYPES, RETRY_FOR, hand_over_after_commit
from admin_app.services.webhooks.signing import decrypt_secret, encrypt_secret, new_secret

ROTATION_OVERLAP = timedelta(hours=24)
# Every event is one delivery per endpoint, by workers all garages share: without a bound
# a garage registering thousands (to a server answering in 5 s) starves everyone else's.
MAX_ENDPOINTS = 10


def _require_garage(actor: Actor) -> int:
    if not actor.garage_id:
        raise Forbidden(_l("Only a garage registers webhooks."))
    return actor.garage_id


def _chosen_events(events) -> list[str]:
    chosen = [e for e in EVENT_TYPES if e in set(events or ())]
    if not chosen:
        raise InvalidInput(_l("Choose at least one event."), field="events")
    return chosen


def get_endpoint(session: Session, endpoint_id) -> WebhookEndpoint:
    """The endpoint if the caller's scope holds it; NotFound otherwise (R-SEC-1)."""
    endpoint = scoped_get(session, WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(_l("Not found."))
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def register_endpoint(
    session: Session, *, url: str, events, actor: Actor
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the actor's garage; returns it with its secret, which is shown
    this once. Refuses a URL that is not HTTPS on 443/8443 or not public."""
    garage_id = _require_garage(actor)
    chosen = _chosen_events(events)
    mine = select(func.count(WebhookEndpoint.id)).where(WebhookEndpoint.garage_id == garage_id)
    if count_of(session, mine) >= MAX_ENDPOINTS:
        raise InvalidInput(
            _l(
                "A garage can have at most %(count)s endpoints; delete one you no longer "
                "use first.",
                count=MAX_ENDPOINTS,
            ),
            field="url",
        )
    vet_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        garage_id=garage_id,
        url=url.strip(),
        events=chosen,
        secret_encrypted=encrypt_secret(secret),
        enabled=True,
        created_by_id=actor.id,
        created_by=actor.name,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def update_endpoint(
    session: Session, endpoint_id, *, url: str, events, actor: Actor
) -> WebhookEndpoint:
    _require_garage(actor)
    endpoint = get_endpoint(session, endpoint_id)
    chosen = _chosen_events(events)
    vet_url(url)
    endpoint.url = url.strip()
    endpoint.events = chosen
    session.flush()
    return endpoint


def rotate_secret(
    session: Session, endpoint_id, *, actor: Actor, now: dt.datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown once; the old one keeps signing for 24 hours beside it, so the
    receiver can switch without losing a delivery."""
    _require_garage(actor)
    endpoint = get_endpoint(session, endpoint_id)
    now = now or utcnow()
    secret = new_secret()
    try:
        decrypt_secret(endpoint.secret_encrypted)
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_until = now + ROTATION_OVERLAP
    except InvalidToken:
        # Stored under an earlier SECRET_KEY: nothing could be signed with it any more.
        endpoint.previous_secret_encrypted = None
        endpoint.previous_secret_until = None
    endpoint.secret_encrypted = encrypt_secret(secret)
    session.flush()
    return endpoint, secret


def disable_endpoint(
    session: Session,
    endpoint_id,
    *,
    actor: Actor,
    reason: str = "by_user",
    now: dt.datetime | None = None,
) -> WebhookEndpoint:
    """Switch the endpoint off; deliveries still waiting are not sent."""
    if reason == "by_user":
        _require_garage(actor)
    endpoint = get_endpoint(session, endpoint_id)
    _switch_off(session, endpoint, reason, now or utcnow())
    return endpoint


def _switch_off(session: Session, endpoint: WebhookEndpoint, reason: str, now) -> None:
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.state == DeliveryState.pending.value,
        )
        .values(state=DeliveryState.cancelled.value)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def switch_off_failing(session: Session, endpoint: WebhookEndpoint, now: dt.datetime) -> None:
    """No delivery succeeded for 24 hours: the endpoint is switched off (its waiting
    deliveries are not sent) and the garage is mailed, so nobody keeps waiting for events
    that no longer come."""
    _switch_off(session, endpoint, "failing", now)
    garage = get_across_tenants(session, Garage, endpoint.garage_id)
    if garage is None:
        return
    with force_locale("nl"):  # mails to a garage are Dutch (services/mails)
        subject = str(_l("Your webhook endpoint was switched off"))
    queue_mail(
        session,
        recipient=garage.email,
        kind="webhook_disabled",
        subject=subject,
        params={"endpoint_id": endpoint.id},
        garage_id=garage.id,
    )


def enable_endpoint(session: Session, endpoint_id, *, actor: Actor) -> WebhookEndpoint:
    """Switch it on again; its address is vetted anew, and it counts as answering."""
    _require_garage(actor)
    endpoint = get_endpoint(session, endpoint_id)
    vet_url(endpoint.url)
    endpoint.enabled = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.failing_since = None
    session.flush()
    return endpoint


def delete_endpoint(session: Session, endpoint_id, *, actor: Actor) -> None:
    """The endpoint goes, with its delivery log."""
    _require_garage(actor)
    endpoint = get_endpoint(session, endpoint_id)
    session.execute(
        WebhookDelivery.__table__.delete().where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    session.delete(endpoint)
    session.flush()


def deliveries_of(session: Session, endpoint_id, *, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's newest deliveries (its log, 30 days), each with its event."""
    endpoint = get_endpoint(session, endpoint_id)
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def send_again(
    session: Session, endpoint_id, delivery_id, *, actor: Actor, now: dt.datetime | None = None
) -> WebhookDelivery:
    """The delivery goes out once more, now, with the same webhook-id, and is retried for
    another 24 hours if it fails. Refused while the endpoint is switched off."""
    _require_garage(actor)
    endpoint = get_endpoint(session, endpoint_id)
    delivery = scoped_get(session, WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(_l("Not found."))
    if not endpoint.enabled:
        raise Conflict(_l("Switch the endpoint on first."))
    if delivery.state == DeliveryState.sending.value:
        raise Conflict(_l("This delivery is being sent right now."))
    now = now or utcnow()
    delivery.state = DeliveryState.pending.value
    delivery.next_attempt_at = now
    delivery.give_up_at = now + RETRY_FOR
    session.flush()
    hand_over_after_commit(session, delivery.id)
    return delivery
