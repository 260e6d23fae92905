"""A request carrying a garage's API key (issue 16): `Authorization: Bearer gk_…`.

``bind_api_key`` runs in the scope hook (admin_app/__init__.py) before any view: it
authenticates the key, counts it against its rate limit, notes its use, and makes the
key's service login the request's user for FAB (``g.user`` with FAB's own
``g._api_key_user`` flag, which its ``has_access`` and ``current_user`` read; protect()
asks ``ConsoleSecurityManager.validate_api_key``) and for the row scope. Only under
/api/: a key opens no HTML screen (there it is ignored, and the screen asks for a login).
"""

from __future__ import annotations

import math
import time

from flask import Flask, g, jsonify
from flask_babel import lazy_gettext as _l
from limits import parse

from admin_app.api.errors import error_body
from admin_app.extensions import appbuilder, db
from admin_app.scope import bind_request_scope
from admin_app.services import api_keys
from admin_app.services.audit import Actor, set_actor

INVALID_KEY = _l("This API key is not valid, or it was revoked.")


def bearer_key(request) -> str | None:
    """The API key of the request's Authorization header, or None (none, or a JWT)."""
    header = request.headers.get("Authorization", "")
    if not header[:7].lower() == "bearer ":
        return None
    token = header[7:].strip()
    return token if token.startswith(api_keys.SECRET_PREFIX) else None


def bind_api_key(app: Flask):
    """Bind the request to its key's garage; or answer 401 (unknown or revoked key) or
    429 (the key's limit per minute is used up) in the contract's shape."""
    from flask import request

    session = db.session
    key = api_keys.authenticate(session, bearer_key(request), signing_key=app.config["SECRET_KEY"])
    if key is None:
        bind_request_scope(None)
        return jsonify(error_body(401, INVALID_KEY)), 401
    refusal = _over_limit(app, key.id)
    if refusal is not None:
        bind_request_scope(None)
        return refusal
    user = key.service_user
    g.key_actor = Actor.of_api_key(key, user)
    # For the caller-scoped Idempotency-Key store and anything else keyed on the caller.
    g.api_key_id = key.id
    if api_keys.note_use(session, key):
        session.commit()  # before the view's own work: its unit of work starts clean
    g.user = user
    g._api_key_user = True  # FAB's flag: has_access and sm.current_user take g.user
    bind_request_scope(user)
    set_actor(session, g.key_actor)
    return None


def _over_limit(app: Flask, key_id: int):
    """Count this request against the key's limit (API_KEY_RATE_LIMIT, 600 per minute),
    in Flask-Limiter's storage (shared by the web processes); 429 with Retry-After when
    it is used up."""
    limiter = appbuilder.sm.limiter
    if not limiter.enabled:
        return None
    limit = parse(app.config["API_KEY_RATE_LIMIT"])
    if limiter.limiter.hit(limit, "api-key", str(key_id)):
        return None
    reset_at = limiter.limiter.get_window_stats(limit, "api-key", str(key_id)).reset_time
    wait = max(1, math.ceil(reset_at - time.time()))
    response = jsonify(error_body(429))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response
