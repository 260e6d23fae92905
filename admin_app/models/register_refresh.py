"""The nightly refresh of the vehicle register from RDW's open-data API (issue 18)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime


class RegisterRefresh(Model):
    """One night's refresh. Its ``day`` (Amsterdam) is unique: inserting the row is the
    claim that makes the refresh run once per night, however many workers tick."""

    __tablename__ = "register_refresh"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False, unique=True)
    state: Mapped[str] = mapped_column(
        String(10), nullable=False, default="running"
    )  # running, done, failed
    plates: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # plates asked
    found: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # of which the API knew
    failed: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0
    )  # plates of batches not applied
    reason: Mapped[str | None] = mapped_column(
        String(20)
    )  # why it stopped: services.register_refresh.REASONS
    reason_params: Mapped[Any] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RegisterPlateAsked(Model):
    """When the API was last asked about a plate, and whether it knew it: a plate it did
    not know is asked again after a week, not every night."""

    __tablename__ = "register_plate_asked"
    plate: Mapped[str] = mapped_column(String(16), primary_key=True)  # normalized
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    found: Mapped[bool] = mapped_column(Boolean, nullable=False)
