from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow


class FleetAccount(Model):
    """A business customer's fleet ("wagenpark"), created by one garage (R-FL-1)."""

    __tablename__ = "fleet_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    # A passport manages at most one fleet account.
    manager_passport_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("passport.id", use_alter=True, name="fk_fleet_account_manager_passport"),
        unique=True,
    )
    # The fleet manager followed the weekly APK overview's stop link (issue 18).
    apk_digest_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    garage = relationship("Garage", lazy="joined", innerjoin=True)
    manager_passport = relationship("Passport", foreign_keys=[manager_passport_id])

    def linked_count(self) -> int:
        """Linked cars; a list page fills this in for all its rows at once."""
        if "_linked_count" not in self.__dict__:
            from sqlalchemy import func, select
            from sqlalchemy.orm import object_session

            from admin_app.models.passports import Passport

            self._linked_count = object_session(self).scalar(
                select(func.count())
                .select_from(Passport)
                .where(Passport.fleet_account_id == self.id)
            )
        return self._linked_count

    def __repr__(self) -> str:
        return self.name
