from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime


class IdempotencyKey(Model):
    """One caller's `Idempotency-Key` and the answer it got (issue 16), kept 24 hours.

    The caller is a login (``user_id``) or an API key (``api_key_id``, no foreign key yet:
    the keys' table arrives with its own migration). A key is claimed by inserting this
    row (``state`` running) — the unique index per caller makes that one INSERT the lock
    across web processes — and finished with the answer to replay (``state`` done)."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        Index(
            "uq_idempotency_key_user",
            "user_id",
            "key",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_idempotency_key_api_key",
            "api_key_id",
            "key",
            unique=True,
            sqlite_where=text("api_key_id IS NOT NULL"),
            postgresql_where=text("api_key_id IS NOT NULL"),
        ),
        CheckConstraint(
            "(user_id IS NULL) <> (api_key_id IS NULL)", name="ck_idempotency_key_one_caller"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE")
    )
    api_key_id: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False)  # running, done
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[Any] = mapped_column(
        JSON, nullable=True
    )  # the answer's Content-Type and Location
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
