from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)

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

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"))
    api_key_id = Column(Integer)
    key = Column(String(255), nullable=False)
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint = Column(String(64), nullable=False)
    state = Column(String(10), nullable=False)  # running, done
    status = Column(Integer)
    headers = Column(JSON)  # the answer's Content-Type and Location
    body = Column(LargeBinary)
    created_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False, index=True)
