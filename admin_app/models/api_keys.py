"""A garage management system's API key (issue 16): a secret that acts as its garage."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow


class ApiKey(Model):
    """One key of one garage. Only an HMAC of the secret is stored (services/api_keys).

    Requests with the key run as ``service_user``: a login of its own with the Garage role
    for this garage that cannot log in, so FAB's permission checks and the row scope treat
    the key exactly as a garage employee, and the key outlives the colleague who made it
    (``created_by_id`` is only history).
    """

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # The first characters of the secret ("gk_AbC1…"), to tell keys apart on screens.
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    service_user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, unique=True
    )

    garage = relationship("Garage", foreign_keys=[garage_id])
    created_by = relationship("ConsoleUser", foreign_keys=[created_by_id])
    service_user = relationship("ConsoleUser", foreign_keys=[service_user_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
