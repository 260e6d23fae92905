"""Signed webhooks (issue 16): a garage's endpoints, the events of its records, and each
event's delivery to each endpoint."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    events: Mapped[Any] = mapped_column(JSON, nullable=False, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "failing" (24 hours without a successful delivery) or "by_user".
    disabled_reason: Mapped[str | None] = mapped_column(String(20))
    # The first failed attempt since the last success; None while it answers.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(200))

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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )


class WebhookDelivery(Model):
    """One event to one endpoint: its attempts so far and the last answer."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_event.id", ondelete="CASCADE"), nullable=False, index=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False, index=True
    )
    state: Mapped[str] = mapped_column(
        String(12), nullable=False, default=DeliveryState.pending.value
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Retries stop here: 24 hours after the event (or after "send again").
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    response_ms: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )

    event = relationship("WebhookEvent")
    endpoint = relationship("WebhookEndpoint")

    def state_label(self) -> str:
        return str(DELIVERY_STATE_LABELS.get(self.state, self.state))
