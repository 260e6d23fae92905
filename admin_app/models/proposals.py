"""Invoices and weekly contact proposals (R-CP-1…4)."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.types import PlateType

INVOICE_KINDS = {
    "maintenance": _l("Maintenance"),
    "apk": _l("APK"),
    "repair": _l("Repair"),
}


class Invoice(Model):
    """A garage's invoice as its management system exports it: the basis of proposals."""

    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_garage_plate_date", "garage_id", "plate", "invoice_date"),
        Index("ix_invoice_garage_customer_date", "garage_id", "customer_id", "invoice_date"),
        # An invoice number names one invoice of a garage. Invoices without one (NULL)
        # are not constrained: both databases let NULLs repeat in a unique index.
        Index("uq_invoice_garage_number", "garage_id", "invoice_number", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(Integer, ForeignKey("garage.id"), nullable=False)
    # The management system's own number, when its export has one: what makes an
    # uploaded invoice the same invoice again (migration 0011).
    invoice_number: Mapped[str | None] = mapped_column(String(40))
    invoice_date: Mapped[date] = mapped_column(Date, nullable=False)
    plate: Mapped[str] = mapped_column(PlateType, nullable=False)
    customer_number: Mapped[str | None] = mapped_column(String(40))
    # The customer it belongs to, when the garage knows the customer number or the plate.
    customer_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("customer.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


DECISIONS = {"yes": _l("Yes"), "no": _l("No"), "never": _l("Never")}
REASONS = {"periodic": _l("Periodic contact"), "advice": _l("Advice follow-up")}


class ContactProposal(Model):
    """A proposal to invite a customer in a week (ISO week of the predicted visit)."""

    __tablename__ = "contact_proposal"
    __table_args__ = (
        UniqueConstraint("garage_id", "week", "passport_id", "reason", name="uq_proposal"),
        Index("ix_proposal_garage_week", "garage_id", "week"),
        Index("ix_proposal_customer_invited", "customer_id", "invited_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(Integer, ForeignKey("garage.id"), nullable=False)
    week: Mapped[str] = mapped_column(String(8), nullable=False)  # 2026-W49
    week_start: Mapped[date] = mapped_column(Date, nullable=False)  # its Monday
    customer_id: Mapped[int] = mapped_column(Integer, ForeignKey("customer.id"), nullable=False)
    passport_id: Mapped[int] = mapped_column(Integer, ForeignKey("passport.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(10), nullable=False)
    predicted_date: Mapped[date] = mapped_column(Date, nullable=False)
    decision: Mapped[str] = mapped_column(String(5), nullable=False)
    advice: Mapped[str | None] = mapped_column(String(1000))  # the advice items, for a follow-up
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    customer = relationship("Customer", lazy="joined")
    passport = relationship("Passport", lazy="joined")


class WeeklyRun(Model):
    """One row per ISO week whose proposals were made: the claim that makes the Monday
    run happen once, however many workers tick, and again after downtime."""

    __tablename__ = "weekly_run"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposals: Mapped[int | None] = mapped_column(Integer)
