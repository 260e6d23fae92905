from __future__ import annotations

import enum
from datetime import datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow


class TransferState(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    cancelled = "cancelled"
    expired = "expired"


TRANSFER_STATE_LABELS = {
    TransferState.pending.value: _l("Waiting for acceptance"),
    TransferState.accepted.value: _l("Completed"),
    TransferState.cancelled.value: _l("Cancelled"),
    TransferState.expired.value: _l("Expired"),
}
TRANSFER_KIND_LABELS = {"owner": _l("New owner"), "driver": _l("New driver")}


class Transfer(Model):
    """A passport handed to a new owner or driver (R-TR-5): kind, from, to, by, when, state."""

    __tablename__ = "transfer"
    __table_args__ = (
        # One open transfer per passport, whatever two browser tabs do.
        Index(
            "uq_transfer_one_pending",
            "passport_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    passport_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("passport.id"), nullable=False, index=True
    )
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="owner")
    state: Mapped[str] = mapped_column(
        String(12), nullable=False, default=TransferState.pending.value
    )
    from_customer_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("customer.id"))
    to_customer_id: Mapped[int] = mapped_column(Integer, ForeignKey("customer.id"), nullable=False)
    to_email: Mapped[str] = mapped_column(String(320), nullable=False)
    to_name: Mapped[str | None] = mapped_column(String(300))
    # What a cancelled or expired transfer restores.
    previous_state: Mapped[str | None] = mapped_column(String(20))
    previous_stock_car: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(
        String(200), nullable=False
    )  # the name: the log outlives users
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The new owner's one reminder, 3 days before expiry (issue 18): set by the claim
    # that sends it, so a second worker or tick sends none.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    passport = relationship("Passport", foreign_keys=[passport_id])
    from_customer = relationship("Customer", foreign_keys=[from_customer_id])
    to_customer = relationship("Customer", foreign_keys=[to_customer_id])

    def state_label(self) -> str:
        return str(TRANSFER_STATE_LABELS.get(self.state, self.state))

    def kind_label(self) -> str:
        return str(TRANSFER_KIND_LABELS.get(self.kind, self.kind))
