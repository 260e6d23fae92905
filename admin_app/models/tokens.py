from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String

from admin_app.models.base import UTCDateTime, utcnow


class AccessToken(Model):
    """An expiring secret mailed as a link (activation, reset, accept, …).

    Only a hash is stored, so a database read never yields a usable link. A link acts for
    the address it was mailed to (``recipient``) and, where one was known when it was made,
    for one login (``user_id``): it is void once that address is no longer its subject's,
    or once a newer link of its purpose for the same subject was mailed.
    """

    __tablename__ = "access_token"

    id = Column(Integer, primary_key=True)
    purpose = Column(String(30), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    subject_id = Column(Integer, index=True)  # the passport, transfer, customer or form
    recipient = Column(String(320), nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
