"""Mailed links (R-SEC-3, R-PP-4, R-TR-2, R-FL-5, R-IN-6, R-CP-2): random, hashed, bound.

A link is made by the worker when it writes the mail (services/mails), never before: the
raw token travels only in the mail; the database keeps its SHA-256, so neither a database
read nor the outbox yields a working link. Each link acts for the address it was mailed to
and, where one was known, for one login; it is void as soon as its subject's address is
another one, or a newer link of its purpose for the same subject was mailed (but for the
links that only stop mail: STOP_LINKS).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.errors import InvalidInput
from admin_app.models import AccessToken
from admin_app.models.base import utcnow
from admin_app.services.emails import email_key

NOT_VALID = _l("This link is not valid. Request a new one.")

# Links that only stop mail (R-CP-2's opt-out, the APK overview's stop link): a customer
# mailed an invitation and then an APK reminder (issue 18) may click either mail's link,
# so a newer one does not void them. They still expire and still act for their address.
STOP_LINKS = {"opt_out", "apk_digest_stop"}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(
    session: Session,
    *,
    purpose: str,
    ttl: timedelta,
    recipient: str,
    user_id: int | None = None,
    subject_id: int | None = None,
) -> str:
    """A new link for ``recipient``; earlier unused links of this purpose and subject
    stop working (and peek_token refuses any but the newest, should two be made at once)."""
    now = utcnow()
    if purpose not in STOP_LINKS:
        session.execute(
            update(AccessToken)
            .where(AccessToken.used_at.is_(None), *_same_target(purpose, user_id, subject_id))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    raw = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            purpose=purpose,
            token_hash=hash_token(raw),
            recipient=recipient,
            user_id=user_id,
            subject_id=subject_id,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return raw


def _same_target(purpose: str, user_id: int | None, subject_id: int | None) -> list:
    target = [AccessToken.purpose == purpose]
    if subject_id is not None:
        target.append(AccessToken.subject_id == subject_id)
    else:
        target.append(AccessToken.user_id == user_id)
    return target


def peek_token(
    session: Session, raw: str, *, purpose: str, address: str | None = None
) -> AccessToken:
    """The valid token for ``raw``, without using it; InvalidInput says why not.

    ``address`` is where the link's subject is mailed now (the owner's, the user's
    e-mail): a link mailed to another address acts for nobody.
    """
    token = session.scalar(
        select(AccessToken).where(AccessToken.token_hash == hash_token(raw or ""))
    )
    if token is None or token.purpose != purpose:
        raise InvalidInput(NOT_VALID)
    if token.used_at is not None:
        raise InvalidInput(_l("This link has already been used. Request a new one."))
    if token.expires_at <= utcnow():
        raise InvalidInput(_l("This link has expired. Request a new one."))
    newer = session.scalar(
        select(AccessToken.id).where(
            AccessToken.id > token.id, *_same_target(purpose, token.user_id, token.subject_id)
        )
    )
    if newer is not None and purpose not in STOP_LINKS:
        raise InvalidInput(_l("A newer link was sent; use the newest mail."))
    if address is not None:
        check_addressed_to(token, address)
    return token


def check_addressed_to(token: AccessToken, address: str | None) -> None:
    """Refuse a link whose subject is mailed at another address than it was."""
    if not address or not token.recipient or email_key(address) != email_key(token.recipient):
        raise InvalidInput(NOT_VALID)


def consume_token(
    session: Session, raw: str, *, purpose: str, address: str | None = None
) -> AccessToken:
    """Use the token once. Of two simultaneous uses only one succeeds."""
    token = peek_token(session, raw, purpose=purpose, address=address)
    result = session.execute(
        update(AccessToken)
        .where(AccessToken.id == token.id, AccessToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed_rows(result) != 1:
        raise InvalidInput(_l("This link has already been used. Request a new one."))
    return token
