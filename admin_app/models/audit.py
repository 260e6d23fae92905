from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, Index, Integer, String

from admin_app.models.base import UTCDateTime, utcnow


class AuditLog(Model):
    """One change to one record (R-SEC-2): who, when, which record, fields old → new."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_record", "table_name", "record_id"),
        # A garage's log, newest first (the screens list by id).
        Index("ix_audit_log_garage_id_desc", "garage_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    # The actor is copied, not referenced: the log outlives renamed or deleted users.
    actor_id = Column(Integer)
    actor_name = Column(String(200), nullable=False)
    action = Column(String(10), nullable=False)  # insert, update, delete
    table_name = Column(String(60), nullable=False)
    record_id = Column(Integer)
    # A label for the row scope, not a reference: the log is append-only (migration 0009).
    garage_id = Column(Integer)
    passport_id = Column(Integer, index=True)
    changes = Column(JSON, nullable=False, default=dict)
