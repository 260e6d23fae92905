"""Signed webhooks (issue 16): a garage's endpoints, its events and their deliveries.

An event is a row written in the transaction of its cause, like a mail in the outbox
(services/outbox): one ``webhook_event`` and one ``webhook_delivery`` per enabled
endpoint that chose its type. After the commit the deliveries are handed to the worker
(jobs/webhooks); if that hand-over is lost, the worker's clock finds them anyway.

An endpoint's address is vetted at registration and again at every delivery: every
address its name resolves to must be globally routable (no loopback, private, link-local,
IPv4-mapped loopback …), or a garage could make the worker call the platform's own
network. The worker then connects to the address it vetted, not to a second lookup.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import SplitResult, urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from admin_app import queueing
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import BatchJob, Customer, Garage, InspectionForm, Passport, Transfer
from admin_app.models.base import utcnow
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.webhooks import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from admin_app.scope import ALL_TENANTS, get_across_tenants, scoped_get
from admin_app.services.audit import Actor
from admin_app.services.mails import public_url
from admin_app.services.outbox import queue_mail

# The events a garage may choose, with the words its screen shows.
EVENT_LABELS = {
    "passport.created": _l("A passport was created"),
    "passport.sent": _l("A passport was sent to its owner"),
    "passport.activated": _l("An owner activated a passport"),
    "transfer.started": _l("A transfer was started"),
    "transfer.accepted": _l("A transfer was accepted"),
    "transfer.cancelled": _l("A transfer was cancelled"),
    "transfer.expired": _l("A transfer expired (not accepted within 14 days)"),
    "email.bounced": _l("A customer's e-mail address bounced"),
    "batch_job.previewed": _l("A customer list was read (preview ready)"),
    "batch_job.done": _l("A customer list was processed"),
    "batch_job.failed": _l("A customer list failed"),
    "inspection_form.saved": _l("An inspection form was saved"),
}
EVENT_TYPES = tuple(EVENT_LABELS)

ALLOWED_PORTS = {443, 8443}
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
ROTATION_OVERLAP = timedelta(hours=24)
RETRY_FOR = timedelta(hours=24)  # retries of one delivery, and how long an endpoint may fail
KEEP_LOG = timedelta(days=30)
MAX_URL = 2000
# Every event is one delivery per endpoint, by workers all garages share: without a bound
# a garage registering thousands (to a server answering in 5 s) starves everyone else's.
MAX_ENDPOINTS = 10

# The fields of the API's result for each resource (admin_app/api: the list/show columns
# of PassportApi, TransferApi, CustomerApi, BatchJobApi, InspectionFormApi), so that a
# receiver reads an event as it reads GET /api/v1/<resource>/<id>. Tokens and links are
# in none of them; tests/services/test_webhooks_issue16.py keeps the two lists equal.
PASSPORT_FIELDS = (
    "id",
    "plate",
    "plate_display",
    "state",
    "email",
    "customer_id",
    "garage_id",
    "fleet_account_id",
    "stock_car",
    "brand",
    "model",
    "apk_expiry",
    "fuel",
    "first_registration",
)
TRANSFER_FIELDS = ("id", "passport_id", "kind", "state", "to_email", "created_by", "created_at")
BATCH_JOB_FIELDS = (
    "id",
    "filename",
    "uploaded_by",
    "uploaded_at",
    "state",
    "scheduled_for",
    "send_to_customers",
    "counts",
    "progress",
)
INSPECTION_FORM_FIELDS = (
    "id",
    "kind",
    "plate",
    "passport_id",
    "inspector",
    "inspection_date",
    "version",
    "is_draft",
    "send_updates",
    "still_adjusting",
    "saved_at",
    "content",
)
# CustomerApi.list_columns: id, the contact fields with the e-mail among them, garage_id.
CUSTOMER_FIELDS = ("id", *CONTACT_FIELDS[:3], "email", *CONTACT_FIELDS[3:], "garage_id")


class WebhookRefused(InvalidInput):
    """The URL may not receive webhooks (scheme, port, or an address not public)."""


# --- secrets -----------------------------------------------------------------------------


def _fernet() -> Fernet:
    # Derived from SECRET_KEY: rotating SECRET_KEY voids every stored secret (the garage
    # rotates its endpoints' secrets after that; DESIGN-NOTES).
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"console webhook secrets"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64, as Standard Webhooks' libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str:
    """The secret; raises InvalidToken when it was stored under another SECRET_KEY."""
    return _fernet().decrypt(stored.encode()).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The current secret, and the previous one during a rotation's overlap."""
    found = [decrypt_secret(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > now
    ):
        try:
            found.append(decrypt_secret(endpoint.previous_secret_encrypted))
        except InvalidToken:
            pass
    return found


# --- vetting an address (SSRF) -----------------------------------------------------------


@dataclass(frozen=True)
class VettedUrl:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # every address the host resolved to, all allowed


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


# IPv6 ranges that carry an IPv4 address or are deprecated, which Python's is_global
# (3.11) still calls global. NAT64's well-known prefix is judged by the IPv4 address
# inside it (a DNS64 network reaches a public IPv4-only receiver through it); the rest is
# refused: a NAT64 gateway or an old router would take them to a private address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NOT_GLOBAL_V6 = tuple(
    ipaddress.ip_network(n)
    for n in ("64:ff9b:1::/48", "::/96", "fec0::/10")  # local NAT64, IPv4-compatible, site
)


def address_allowed(address: str, *, allow_private: bool = False) -> bool:
    """Whether the worker may connect to ``address``: globally routable, with an IPv6
    address that carries an IPv4 address (mapped, 6to4, NAT64) judged by that IPv4
    address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif any(ip in network for network in NOT_GLOBAL_V6) and not allow_private:
            return False
    if allow_private:
        return True
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def vet_url(url: str, *, allow_private: bool | None = None) -> VettedUrl:
    """Check a webhook URL and resolve it; raises WebhookRefused saying why not."""
    allow_private = _allow_private() if allow_private is None else allow_private
    parts, port = _read_url(url, allow_private=allow_private)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError, ValueError):  # no such name, or not a name at all
        raise WebhookRefused(
            _l("The server %(host)s cannot be found.", host=parts.hostname), field="url"
        ) from None
    _refuse_addresses_not_public(parts.hostname, addresses, allow_private=allow_private)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return VettedUrl(parts.scheme, parts.hostname, port, target, tuple(addresses))


def _read_url(url: str, *, allow_private: bool) -> tuple[SplitResult, int]:
    """The URL's parts and port, if it is HTTPS to a named server on an allowed port
    without a user name or password (HTTP and any port too when private is allowed)."""
    url = (url or "").strip()
    if not url:
        raise WebhookRefused(_l("Fill in the URL of your endpoint."), field="url")
    if len(url) > MAX_URL:
        raise WebhookRefused(_l("The URL is too long."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused(_l("This is not a valid URL."), field="url") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise WebhookRefused(_l("The URL must start with https:// and name a server."), field="url")
    if parts.username or parts.password:
        raise WebhookRefused(_l("Leave user names and passwords out of the URL."), field="url")
    port = port or (443 if parts.scheme == "https" else 80)
    if port not in ALLOWED_PORTS and not allow_private:
        raise WebhookRefused(_l("Use port 443 or 8443."), field="url")
    return parts, port


def _refuse_addresses_not_public(host: str, addresses: list[str], *, allow_private: bool):
    """Every address the host resolved to must be allowed, and there must be one."""
    refused = [a for a in addresses if not address_allowed(a, allow_private=allow_private)]
    if refused == [host]:  # an address typed as the host: say it once
        raise WebhookRefused(
            _l(
                "%(address)s is not an address on the public internet: webhooks go to "
                "public servers only.",
                address=host,
            ),
            field="url",
        )
    if refused or not addresses:
        raise WebhookRefused(
            _l(
                "%(host)s points to an address that is not on the public internet "
                "(%(address)s): webhooks go to public servers only.",
                host=host,
                address=", ".join(refused) or "-",
            ),
            field="url",
        )


# --- endpoints ---------------------------------------------------------------------------


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
    if session.scalar(mine) >= MAX_ENDPOINTS:
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
    _hand_over_later(session, delivery.id)
    return delivery


# --- events ------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fields(record, names) -> dict:
    return {name: _plain(getattr(record, name, None)) for name in names}


def passport_data(passport: Passport) -> dict:
    """The passport as the API shows it: the car's values as they count (typed, else the
    vehicle register's; issue 18), not only what was typed."""
    from sqlalchemy.orm import object_session

    from admin_app.services.vehicle_values import values_of_one

    data = _fields(passport, PASSPORT_FIELDS)
    session = object_session(passport)
    if session is not None:
        for name, value in values_of_one(session, passport).fields().items():
            data[name] = _plain(value.value)
    return data


def transfer_data(transfer: Transfer) -> dict:
    return _fields(transfer, TRANSFER_FIELDS)


def customer_data(customer: Customer) -> dict:
    return _fields(customer, CUSTOMER_FIELDS)


def inspection_form_data(form: InspectionForm) -> dict:
    return _fields(form, INSPECTION_FORM_FIELDS)


def batch_job_data(job: BatchJob) -> dict:
    data = _fields(job, BATCH_JOB_FIELDS)
    if job.state == "done":
        # What a receiver needs to read the outcome of each row.
        data["rows_url"] = public_url(f"/api/v1/batch_job/{job.id}/rows")
    if job.state == "failed":
        data["error"] = job.error
    return data


_NEW_DELIVERIES = "webhook_new_deliveries"


def emit(
    session: Session,
    garage_id: int | None,
    type: str,
    data: dict | Callable[[], dict],
    *,
    now: dt.datetime | None = None,
) -> WebhookEvent | None:
    """Record event ``type`` of the garage, in the caller's transaction, with a delivery
    for each of its enabled endpoints that chose it. Nothing when none did.

    ``data`` may be a function building the payload: it is called only when an endpoint
    wants the event (most garages have none: one indexed SELECT is all they pay)."""
    if type not in EVENT_LABELS:
        raise ValueError(f"unknown webhook event {type!r}")
    if not garage_id:
        return None
    # The garage's endpoints whoever causes the event: a fleet manager's transfer or an
    # owner's activation is the garage's event too, and those scopes hold no endpoints.
    endpoints = [
        endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.garage_id == garage_id, WebhookEndpoint.enabled.is_(True))
            .execution_options(**{ALL_TENANTS: True})
        )
        if type in (endpoint.events or ())
    ]
    if not endpoints:
        return None
    now = now or utcnow()
    hook_event = WebhookEvent(
        garage_id=garage_id,
        message_id=f"msg_{uuid.uuid4().hex}",
        type=type,
        data=_plain(data() if callable(data) else data),
        created_at=now,
    )
    session.add(hook_event)
    session.flush()
    deliveries = [
        WebhookDelivery(
            garage_id=garage_id,
            event_id=hook_event.id,
            endpoint_id=endpoint.id,
            state=DeliveryState.pending.value,
            attempts=0,
            next_attempt_at=now,
            give_up_at=now + RETRY_FOR,
            created_at=now,
        )
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        _hand_over_later(session, delivery.id)
    return hook_event


def body_of(hook_event: WebhookEvent) -> bytes:
    """The request body: ``{"type", "timestamp", "data"}``, timestamp of the event."""
    return json.dumps(
        {
            "type": hook_event.type,
            "timestamp": hook_event.created_at.astimezone(dt.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "data": hook_event.data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def event_label(type: str) -> str:
    return str(EVENT_LABELS.get(type, type))


# The worker stores an attempt's failure as Python and the TLS library word it (for the
# garage system's supplier); the garage reads the log, so it sees what went wrong in words.
_PROBLEMS = (
    (
        "CERTIFICATE_VERIFY_FAILED",
        _l("The server's HTTPS certificate is not valid for this address."),
    ),
    ("SSL", _l("A secure (HTTPS) connection to the server could not be made.")),
    ("no answer within", _l("The server did not answer within 5 seconds.")),
    ("timed out", _l("The server did not answer within 5 seconds.")),
    ("ConnectionRefused", _l("The server refused the connection.")),
    ("the secret is unreadable", _l("The secret can no longer be read: make a new secret.")),
)
# "<ExceptionName>: …" — any other failure of the connection itself.
_RAISED = re.compile(r"^[A-Za-z_]\w*: ")


def delivery_problem(error: str | None) -> str | None:
    """An attempt's stored failure in words; a refusal already in words is returned as it is."""
    if not error:
        return None
    for marker, words in _PROBLEMS:
        if marker in error:
            return str(words)
    if _RAISED.match(error):
        return str(_l("The server could not be reached."))
    return error


# --- hand-over to the worker after commit (as services/outbox) ----------------------------


def _hand_over_later(session: Session, delivery_id: int) -> None:
    session.info.setdefault(_NEW_DELIVERIES, set()).add(delivery_id)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_NEW_DELIVERIES, None)
    if ids:
        queueing.hand_over("admin_app.jobs.webhooks.deliver_due", what="webhook delivery")


def _after_rollback(session: Session) -> None:
    session.info.pop(_NEW_DELIVERIES, None)


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", lambda s, t: _after_rollback(s))
