"""Signed webhooks (issue 16): a garage's endpoints, the events of its records, and each
event's delivery to each endpoint."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from admin_app.models.base import UTCDateTime, utcnow


class DeliveryState(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    failed = "failed"
    cancelled = "cancelled"


DELIVERY_STATE_LABELS = {
    DeliveryState.pending.value: _l("Waiting to be sent"),
    DeliveryState.sending.value: _l("Being sent"),
    DeliveryState.delivered.value: _l("Delivered"),
    DeliveryState.failed.value: _l("Failed: no more attempts"),
    DeliveryState.cancelled.value: _l("Not sent: the endpoint was switched off"),
}


class WebhookEndpoint(Model):
    """A URL of the garage's management system that receives the events it chose.

    The signing secret is stored encrypted (services/webhooks); after a rotation the old
    one stays valid until ``previous_secret_until`` and both signatures are sent.
    """

    __tablename__ = "webhook_endpoint"

    id = Column(Integer, primary_key=True)
    garage_id = Column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    url = Column(String(2000), nullable=False)
    events = Column(JSON, nullable=False, default=list)
    secret_encrypted = Column(Text, nullable=False)
    previous_secret_encrypted = Column(Text)
    previous_secret_until = Column(UTCDateTime)
    enabled = Column(Boolean, nullable=False, default=True)
    disabled_at = Column(UTCDateTime)
    # "failing" (24 hours without a successful delivery) or "by_user".
    disabled_reason = Column(String(20))
    # The first failed attempt since the last success; None while it answers.
    failing_since = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id = Column(Integer)
    created_by = Column(String(200))

    garage = relationship("Garage")

    def __repr__(self) -> str:
        return self.url or f"Webhook {self.id}"

    def state_label(self) -> str:
        if self.enabled:
            return str(_l("On"))
        if self.disabled_reason == "failing":
            return str(_l("Switched off: no delivery succeeded for 24 hours"))
        return str(_l("Switched off"))


class WebhookEvent(Model):
    """Something that happened to one of the garage's records, written in the
    transaction of its cause; ``message_id`` is the ``webhook-id`` of every delivery."""

    __tablename__ = "webhook_event"

    id = Column(Integer, primary_key=True)
    garage_id = Column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message_id = Column(String(40), nullable=False, unique=True)
    type = Column(String(40), nullable=False)
    data = Column(JSON, nullable=False, default=dict)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


class WebhookDelivery(Model):
    """One event to one endpoint: its attempts so far and the last answer."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "state", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    garage_id = Column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_id = Column(
        Integer, ForeignKey("webhook_event.id", ondelete="CASCADE"), nullable=False, index=True
    )
    endpoint_id = Column(
        Integer, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False, index=True
    )
    state = Column(String(12), nullable=False, default=DeliveryState.pending.value)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # Retries stop here: 24 hours after the event (or after "send again").
    give_up_at = Column(UTCDateTime, nullable=False)
    claimed_at = Column(UTCDateTime)
    last_attempt_at = Column(UTCDateTime)
    last_status = Column(Integer)
    response_ms = Column(Integer)
    response_body = Column(String(1024))
    error = Column(String(500))
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    event = relationship("WebhookEvent")
    endpoint = relationship("WebhookEndpoint")

    def state_label(self) -> str:
        return str(DELIVERY_STATE_LABELS.get(self.state, self.state))
