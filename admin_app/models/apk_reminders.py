"""APK reminders (issue 18): what was mailed, so each expiry date is reminded once."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow


class ApkDigest(Model):
    """One weekly mail to a fleet manager listing his cars due in the next 8 weeks."""

    __tablename__ = "apk_digest"
    __table_args__ = (UniqueConstraint("fleet_account_id", "week", name="uq_apk_digest_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id"), nullable=False, index=True
    )
    fleet_account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("fleet_account.id"), nullable=False
    )
    week: Mapped[str] = mapped_column(String(8), nullable=False)  # ISO week, 2026-W49
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ApkReminder(Model):
    """A car reminded of its APK expiry: mailed to its owner (``customer_id``), or listed
    in a fleet manager's weekly digest (``digest_id``)."""

    __tablename__ = "apk_reminder"
    __table_args__ = (
        # An owner is mailed once per expiry date; a new date is reminded again.
        Index(
            "uq_apk_reminder_owner_expiry",
            "passport_id",
            "apk_expiry",
            unique=True,
            sqlite_where=text("digest_id IS NULL"),
            postgresql_where=text("digest_id IS NULL"),
        ),
        Index("ix_apk_reminder_garage_reminded", "garage_id", "reminded_at"),
        # No contact proposal within 8 weeks after a reminder (R-CP-1).
        Index("ix_apk_reminder_customer_reminded", "customer_id", "reminded_at"),
        Index("ix_apk_reminder_digest", "digest_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(Integer, ForeignKey("garage.id"), nullable=False)
    passport_id: Mapped[int] = mapped_column(Integer, ForeignKey("passport.id"), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("customer.id"))
    digest_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("apk_digest.id"))
    apk_expiry: Mapped[date] = mapped_column(Date, nullable=False)
    reminded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ApkReminderRun(Model):
    """One row per day whose reminders were made: the claim that makes the daily run
    happen once, however many workers tick (as proposals' WeeklyRun)."""

    __tablename__ = "apk_reminder_run"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminders: Mapped[int | None] = mapped_column(Integer)
    digests: Mapped[int | None] = mapped_column(Integer)
