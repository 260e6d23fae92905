"""Invoices and weekly contact proposals (R-CP-1…4)."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

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

    id = Column(Integer, primary_key=True)
    garage_id = Column(Integer, ForeignKey("garage.id"), nullable=False)
    # The management system's own number, when its export has one: what makes an
    # uploaded invoice the same invoice again (migration 0011).
    invoice_number = Column(String(40))
    invoice_date = Column(Date, nullable=False)
    plate = Column(PlateType, nullable=False)
    customer_number = Column(String(40))
    # The customer it belongs to, when the garage knows the customer number or the plate.
    customer_id = Column(Integer, ForeignKey("customer.id"))
    amount_cents = Column(BigInteger, nullable=False)
    kind = Column(String(12), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


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

    id = Column(Integer, primary_key=True)
    garage_id = Column(Integer, ForeignKey("garage.id"), nullable=False)
    week = Column(String(8), nullable=False)  # 2026-W49
    week_start = Column(Date, nullable=False)  # its Monday
    customer_id = Column(Integer, ForeignKey("customer.id"), nullable=False)
    passport_id = Column(Integer, ForeignKey("passport.id"), nullable=False)
    reason = Column(String(10), nullable=False)
    predicted_date = Column(Date, nullable=False)
    decision = Column(String(5), nullable=False)
    advice = Column(String(1000))  # the advice items, for a follow-up
    closed = Column(Boolean, nullable=False, default=False)
    invited_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    customer = relationship("Customer", lazy="joined")
    passport = relationship("Passport", lazy="joined")


class WeeklyRun(Model):
    """One row per ISO week whose proposals were made: the claim that makes the Monday
    run happen once, however many workers tick, and again after downtime."""

    __tablename__ = "weekly_run"

    week = Column(String(8), primary_key=True)
    started_at = Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = Column(UTCDateTime)
    proposals = Column(Integer)
