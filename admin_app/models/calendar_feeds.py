"""A subscriber's calendar address (issue 18): APK, service and renewal dates as ICS."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow


class CalendarFeed(Model):
    """One secret calendar address of one login (an Owner or a fleet manager).

    Only the SHA-256 of the secret is stored (services/tokens.hash_token): a database read
    yields no working address. The feed shows what the login's own scope holds at each
    fetch, so a car that leaves his account or fleet leaves his calendar. A new address
    revokes the old one: at most one live address per login.
    """

    __tablename__ = "calendar_feed"
    __table_args__ = (
        Index(
            "uq_calendar_feed_one_live",
            "user_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a calendar app last fetched it, written at most once an hour (services).
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("ConsoleUser", foreign_keys=[user_id])
