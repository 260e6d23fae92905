"""Signed webhooks (issue 16): a garage's endpoints, its events and their deliveries.

- `events`: an event is a row written in the transaction of its cause, like a mail in the
  outbox (services/outbox): one ``webhook_event`` and one ``webhook_delivery`` per enabled
  endpoint that chose its type (`emit`). After the commit the deliveries are handed to the
  worker (jobs/webhooks); if that hand-over is lost, the worker's clock finds them anyway.
- `endpoints`: what a garage does with its endpoints (register, change, switch off and on,
  rotate the secret, send a delivery again).
- `addresses`: an endpoint's address is vetted at registration and again at every
  delivery (`vet_url`): every address its name resolves to must be globally routable.
- `signing`: the secret, kept encrypted, and the signature of each delivery.

Callers import from here: ``from admin_app.services import webhooks``.
"""

from __future__ import annotations

from admin_app.services.webhooks.addresses import (
    ALLOWED_PORTS,
    MAX_URL,
    NAT64,
    NOT_GLOBAL_V6,
    VettedUrl,
    WebhookRefused,
    address_allowed,
    resolve,
    vet_url,
)
from admin_app.services.webhooks.endpoints import (
    MAX_ENDPOINTS,
    ROTATION_OVERLAP,
    delete_endpoint,
    deliveries_of,
    disable_endpoint,
    enable_endpoint,
    get_endpoint,
    list_endpoints,
    register_endpoint,
    rotate_secret,
    send_again,
    switch_off_failing,
    update_endpoint,
)
from admin_app.services.webhooks.events import (
    BATCH_JOB_FIELDS,
    CUSTOMER_FIELDS,
    EVENT_LABELS,
    EVENT_TYPES,
    INSPECTION_FORM_FIELDS,
    KEEP_LOG,
    PASSPORT_FIELDS,
    RETRY_FOR,
    TRANSFER_FIELDS,
    batch_job_data,
    body_of,
    customer_data,
    delivery_problem,
    emit,
    event_label,
    hand_over_after_commit,
    inspection_form_data,
    install,
    passport_data,
    transfer_data,
)
from admin_app.services.webhooks.signing import (
    SECRET_BYTES,
    SECRET_PREFIX,
    decrypt_secret,
    encrypt_secret,
    new_secret,
    sign,
    signing_secrets,
)

__all__ = [
    "ALLOWED_PORTS",
    "BATCH_JOB_FIELDS",
    "CUSTOMER_FIELDS",
    "EVENT_LABELS",
    "EVENT_TYPES",
    "INSPECTION_FORM_FIELDS",
    "KEEP_LOG",
    "MAX_ENDPOINTS",
    "MAX_URL",
    "NAT64",
    "NOT_GLOBAL_V6",
    "PASSPORT_FIELDS",
    "RETRY_FOR",
    "ROTATION_OVERLAP",
    "SECRET_BYTES",
    "SECRET_PREFIX",
    "TRANSFER_FIELDS",
    "VettedUrl",
    "WebhookRefused",
    "address_allowed",
    "batch_job_data",
    "body_of",
    "customer_data",
    "decrypt_secret",
    "delete_endpoint",
    "deliveries_of",
    "delivery_problem",
    "disable_endpoint",
    "emit",
    "enable_endpoint",
    "encrypt_secret",
    "event_label",
    "get_endpoint",
    "hand_over_after_commit",
    "inspection_form_data",
    "install",
    "list_endpoints",
    "new_secret",
    "passport_data",
    "register_endpoint",
    "resolve",
    "rotate_secret",
    "send_again",
    "sign",
    "signing_secrets",
    "switch_off_failing",
    "transfer_data",
    "update_endpoint",
    "vet_url",
]
