"""API keys of garage management systems (issue 16, R-PP-6, R-X-4): create, revoke,
authenticate.

A key is ``gk_`` + 32 random bytes (urlsafe base64). Only HMAC-SHA256(secret) keyed by the
app's SECRET_KEY is stored: a copy of the database alone yields no usable key, and
rotating SECRET_KEY voids every key (DESIGN-NOTES). The secret is returned once, by
``create_api_key``; nobody can read it again.

Each key acts as a service user of its own: a login with the Garage role for the key's
garage that cannot log in (no password, refused by the login and the reset mail, hidden
from the user lists). FAB's permission checks and the row scope then treat a key exactly
as a garage employee — never more — and the key does not depend on the colleague who made
it staying.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from admin_app.db import changed_rows
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import ApiKey, ConsoleUser
from admin_app.models.base import utcnow
from admin_app.roles import ADMIN, GARAGE
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.accounts import find_role
from admin_app.services.audit import Actor

SECRET_PREFIX = "gk_"
SECRET_BYTES = 32
# Shown on screens to tell keys apart: "gk_" and six characters of the secret (36 bits:
# no help in guessing the remaining 250).
SHOWN_PREFIX_LENGTH = len(SECRET_PREFIX) + 6
NAME_MAX = 100
# The rate limit is per key: without a bound on a garage's keys it had no bound at all.
MAX_KEYS = 10
# A key's "last used" is written at most once a minute: a management system calling 600
# times a minute must not cost 600 writes.
LAST_USED_EVERY = dt.timedelta(minutes=1)
# Service users' e-mail addresses: FAB requires a unique one; .invalid never delivers.
SERVICE_EMAIL_DOMAIN = "api-keys.invalid"


def key_hash(secret: str, signing_key: str) -> str:
    """The stored form of a secret: HMAC-SHA256 keyed by SECRET_KEY, hex."""
    return hmac.new(signing_key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def create_api_key(
    session: Session, name: str, *, actor: Actor, signing_key: str
) -> tuple[ApiKey, str]:
    """A new key for the actor's own garage, and its secret (returned only here).

    Refuses (Forbidden) anyone but a Garage login with a garage — Admin sees and revokes
    keys but a key always belongs to the garage that made it; (InvalidInput) an empty or
    too long name; (Conflict) a name an unrevoked key of the garage has: the audit log
    names a key's changes by it."""
    if not actor.has(GARAGE) or not actor.garage_id:
        raise Forbidden(_l("Only a garage can make API keys for its own management system."))
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_l("Give the key a name, e.g. the management system's."), field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_l("At most %(count)s characters.", count=NAME_MAX), field="name")
    taken = session.scalar(
        select(ApiKey.id).where(
            ApiKey.garage_id == actor.garage_id,
            ApiKey.revoked_at.is_(None),
            ApiKey.name == name,
        )
    )
    if taken:
        raise Conflict(_l("A key with this name already exists."), field="name")
    live = select(func.count(ApiKey.id)).where(
        ApiKey.garage_id == actor.garage_id, ApiKey.revoked_at.is_(None)
    )
    if session.execute(live).scalar_one() >= MAX_KEYS:
        raise InvalidInput(
            _l(
                "A garage can have at most %(count)s API keys; revoke one you no longer use first.",
                count=MAX_KEYS,
            ),
            field="name",
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        garage_id=actor.garage_id,
        name=name,
        key_hash=key_hash(secret, signing_key),
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        created_by_id=actor.id,
        service_user=_service_user(session, actor.garage_id, name),
    )
    session.add(key)
    session.flush()
    return key, secret


def _service_user(session: Session, garage_id: int, name: str) -> ConsoleUser:
    handle = f"api-key-{secrets.token_hex(8)}"
    user = ConsoleUser(
        username=handle,
        email=f"{handle}@{SERVICE_EMAIL_DOMAIN}",
        first_name=name[:64],
        last_name="-",
        active=True,  # FAB's permission check wants an active user; it never logs in
        password=None,
        garage_id=garage_id,
    )
    user.roles = [find_role(session, GARAGE)]
    return user


def get_api_key(session: Session, key_id) -> ApiKey:
    """The key, if the caller's scope holds it (its garage; Admin: all); NotFound otherwise."""
    key = scoped_get(session, ApiKey, key_id)
    if key is None:
        raise NotFound(_l("Not found."))
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    """The keys in the caller's scope, unrevoked first, newest first."""
    return list(
        session.scalars(
            select(ApiKey)
            .options(joinedload(ApiKey.garage), joinedload(ApiKey.created_by))
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
        .unique()
        .all()
    )


def revoke_api_key(session: Session, key_id, *, actor: Actor) -> ApiKey:
    """Revoke a key of the actor's garage (Admin: any garage's). From the next request
    on it answers 401. Revoking a revoked key changes nothing. NotFound outside the scope;
    Forbidden for a role that sees keys but may not revoke them."""
    key = get_api_key(session, key_id)
    if not (actor.has(ADMIN) or (actor.has(GARAGE) and actor.garage_id == key.garage_id)):
        raise Forbidden(_l("You may not do this."))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        # Its login goes too: FAB's permission check refuses an inactive user, whatever
        # else might one day find it.
        key.service_user.active = False
        session.flush()
    return key


def authenticate(session: Session, secret: str, *, signing_key: str) -> ApiKey | None:
    """The unrevoked key with this secret (its service user loaded), or None.

    Looked up across garages: the secret itself is the authorization, as a mailed link's
    token is; the caller then acts in the key's garage's scope."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    key = (
        session.scalars(
            select(ApiKey)
            .where(ApiKey.key_hash == key_hash(secret, signing_key))
            .options(joinedload(ApiKey.service_user))
            .execution_options(**{ALL_TENANTS: True})
        )
        .unique()
        .first()
    )
    if key is None or key.revoked_at is not None or not key.service_user.active:
        return None
    if not _acts_as_its_garage(key):
        return None
    return key


def _acts_as_its_garage(key: ApiKey) -> bool:
    """Whether the key's login is still what create_api_key made: the Garage role only,
    in no group, of the key's garage. Changed anyhow (FAB's role and group screens and
    APIs reach any login), the key stops working rather than act with more or other
    rights: a key is its garage, never more."""
    user = key.service_user
    return (
        user.garage_id == key.garage_id
        and [role.name for role in user.roles] == [GARAGE]
        and not user.groups
        and user.fleet_account_id is None
    )


def note_use(session: Session, key: ApiKey, *, now: dt.datetime | None = None) -> bool:
    """Set the key's "last used" if it is a minute old or unset; returns whether it wrote.

    One conditional UPDATE, so that requests arriving together write it once. The caller
    commits."""
    now = now or utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return False
    written = changed_rows(
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(**{ALL_TENANTS: True}, synchronize_session=False)
        )
    )
    return bool(written)


def service_user_ids():
    """A subquery of every key's login: the user lists and the password reset leave them
    out (they are no people)."""
    return select(ApiKey.service_user_id).execution_options(**{ALL_TENANTS: True})


def is_service_user(session: Session, user_id: int | None) -> bool:
    if not user_id:
        return False
    return bool(
        session.scalar(
            select(ApiKey.id)
            .where(ApiKey.service_user_id == user_id)
            .execution_options(**{ALL_TENANTS: True})
        )
    )
