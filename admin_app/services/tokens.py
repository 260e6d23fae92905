"""Single-use, expiring links (R-SEC-3, and the activation and accept links later).

The raw token travels only in the mail; the database keeps its SHA-256, so neither a
database read nor the outbox screen yields a working link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin_app.models import AccessToken
from admin_app.models.base import utcnow
from admin_app.services.errors import InvalidInput


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(
    session: Session,
    *,
    purpose: str,
    ttl: timedelta,
    user_id: int | None = None,
    subject_id: int | None = None,
) -> str:
    """A new token; earlier unused tokens for the same purpose and target stop working."""
    now = utcnow()
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.purpose == purpose,
            AccessToken.used_at.is_(None),
            AccessToken.user_id == user_id
            if user_id is not None
            else AccessToken.subject_id == subject_id,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            purpose=purpose,
            token_hash=hash_token(raw),
            user_id=user_id,
            subject_id=subject_id,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return raw


def peek_token(session: Session, raw: str, *, purpose: str) -> AccessToken:
    """The valid token for ``raw``, without using it; InvalidInput says why not."""
    token = session.scalar(
        select(AccessToken).where(AccessToken.token_hash == hash_token(raw or ""))
    )
    if token is None or token.purpose != purpose:
        raise InvalidInput(_l("This link is not valid. Request a new one."))
    if token.used_at is not None:
        raise InvalidInput(_l("This link has already been used. Request a new one."))
    if token.expires_at <= utcnow():
        raise InvalidInput(_l("This link has expired. Request a new one."))
    return token


def consume_token(session: Session, raw: str, *, purpose: str) -> AccessToken:
    """Use the token once. Of two simultaneous uses only one succeeds."""
    token = peek_token(session, raw, purpose=purpose)
    result = session.execute(
        update(AccessToken)
        .where(AccessToken.id == token.id, AccessToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidInput(_l("This link has already been used. Request a new one."))
    return token
