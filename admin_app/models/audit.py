from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow


class AuditLog(Model):
    """One change to one record (R-SEC-2): who, when, which record, fields old → new."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_record", "table_name", "record_id"),
        # A garage's log, newest first (the screens list by id).
        Index("ix_audit_log_garage_id_desc", "garage_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The actor is copied, not referenced: the log outlives renamed or deleted users.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(10), nullable=False)  # insert, update, delete
    table_name: Mapped[str] = mapped_column(String(60), nullable=False)
    record_id: Mapped[int | None] = mapped_column(Integer)
    # A label for the row scope, not a reference: the log is append-only (migration 0009).
    garage_id: Mapped[int | None] = mapped_column(Integer)
    passport_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changes: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
