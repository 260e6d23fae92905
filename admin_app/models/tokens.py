from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String

from admin_app.models.base import UTCDateTime, utcnow


class AccessToken(Model):
    """A single-use, expiring secret mailed as a link (password reset, activation, …).

    Only a hash is stored, so a database read never yields a usable link.
    """

    __tablename__ = "access_token"

    id = Column(Integer, primary_key=True)
    purpose = Column(String(30), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    subject_id = Column(Integer, index=True)  # e.g. a passport, for later purposes
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
