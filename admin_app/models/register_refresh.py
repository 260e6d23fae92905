"""The nightly refresh of the vehicle register from RDW's open-data API (issue 18)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, Date, Integer, String

from admin_app.models.base import UTCDateTime


class RegisterRefresh(Model):
    """One night's refresh. Its ``day`` (Amsterdam) is unique: inserting the row is the
    claim that makes the refresh run once per night, however many workers tick."""

    __tablename__ = "register_refresh"

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    state = Column(String(10), nullable=False, default="running")  # running, done, failed
    plates = Column(Integer, nullable=False, default=0)  # plates asked
    found = Column(Integer, nullable=False, default=0)  # of which the API knew
    failed = Column(Integer, nullable=False, default=0)  # plates of batches not applied
    reason = Column(String(20))  # why it stopped: services.register_refresh.REASONS
    reason_params = Column(JSON)
    started_at = Column(UTCDateTime, nullable=False)
    finished_at = Column(UTCDateTime)


class RegisterPlateAsked(Model):
    """When the API was last asked about a plate, and whether it knew it: a plate it did
    not know is asked again after a week, not every night."""

    __tablename__ = "register_plate_asked"
    plate = Column(String(16), primary_key=True)  # normalized
    asked_at = Column(UTCDateTime, nullable=False)
    found = Column(Boolean, nullable=False)
