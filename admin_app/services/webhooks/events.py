"""A garage's webhook events (issue 16): each written in the transaction of its cause, like
a mail in the outbox (services/outbox) — one ``webhook_event`` and one ``webhook_delivery``
per enabled endpoint that chose its type — and handed to the worker after the commit."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from admin_app import queueing
from admin_app.models import BatchJob, Customer, InspectionForm, Passport, Transfer
from admin_app.models.base import utcnow
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.webhooks import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from admin_app.scope import ALL_TENANTS
from admin_app.services.mails import public_url

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

RETRY_FOR = timedelta(hours=24)  # retries of one delivery, and how long an endpoint may fail
KEEP_LOG = timedelta(days=30)

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
        hand_over_after_commit(session, delivery.id)
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


def hand_over_after_commit(session: Session, delivery_id: int) -> None:
    """The delivery goes to the worker once the caller's transaction has committed."""
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
