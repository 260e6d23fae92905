from __future__ import annotations

import datetime as dt
from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, Integer, LargeBinary, String, event, true
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.domain.clock import local_today
from admin_app.models.base import UTCDateTime, utcnow

# A garage switching APK reminders on does not mail the cars due within 5 weeks: their
# owners would get a first mail days before the test, likely booked already (issue 18).
APK_REMINDER_LEAD = dt.timedelta(weeks=5, days=1)


def first_reminded_expiry() -> dt.date:
    """The first APK expiry date reminded when reminders are switched on today."""
    return local_today() + APK_REMINDER_LEAD


class Garage(Model):
    __tablename__ = "garage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # The "garage e-mail": a passport created with it is a stock car (R-PP-3).
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    advice_followup_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # APK reminders (issue 18, services/apk_reminders): on for new garages, off for the
    # ones that existed before migration 0023 until they switch them on.
    apk_reminders: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    apk_reminder_weeks: Mapped[int] = mapped_column(
        Integer, nullable=False, default=6, server_default="6"
    )
    # Expiry dates from this day on are reminded; set whenever reminders are switched on.
    apk_reminders_from: Mapped[date | None] = mapped_column(Date, default=first_reminded_expiry)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mimetype: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return self.name or f"Garage {self.id}"


@event.listens_for(Garage.apk_reminders, "set", active_history=True)
def _stamp_apk_reminders_on(garage, value, previous, initiator):
    """Switching reminders on (the settings form, the API, a script) moves the first
    reminded expiry date: kept where no path can forget it, as passports.fleet_linked_at."""
    if value and previous is not True:
        garage.apk_reminders_from = first_reminded_expiry()
