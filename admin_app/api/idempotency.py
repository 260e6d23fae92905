"""`Idempotency-Key` on every POST of the API (issue 16), in one place: hooks on each
ConsoleApi blueprint around the endpoint (services/idempotency holds the rule).

Before the endpoint the key is claimed in a short transaction of its own, committed at
once: another web process sees it running (409) rather than running the request too.
After it, the answer is stored in another one. A replay answers from before_request:
the endpoint does not run, so nothing is written, audited or mailed a second time —
so the endpoint's permission is asked here first: an answer is given again only to a
caller who may still make the request. The work's own commit marks the key (COMMITTED):
a process dying after it never lets the request run twice (services/idempotency).
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, Response, current_app, g, has_request_context, request
from flask_appbuilder.const import PERMISSION_PREFIX
from sqlalchemy import event
from sqlalchemy.orm import Session

from admin_app.db import unit_of_work
from admin_app.extensions import db
from admin_app.models.base import utcnow
from admin_app.services import idempotency
from admin_app.services.idempotency import HEADER, Answer, Caller

log = logging.getLogger(__name__)

# The headers of an answer that belong to it; the rest (cookies, security headers) are
# the app's, added to the replay as to any answer.
KEPT_HEADERS = ("Content-Type", "Location")


def attach(blueprint: Blueprint) -> None:
    """Before @protect (so the caller is read from the JWT here) and before the app's own
    after_request hooks: the answer kept is the endpoint's, and a replay passes the app's
    hooks (the error shape, security headers) as the first answer did."""
    blueprint.before_request(_claim)
    blueprint.after_request(_finish)
    blueprint.teardown_request(_release_after_error)
    if not event.contains(Session, "before_commit", _work_committing):
        event.listen(Session, "before_commit", _work_committing)


def _work_committing(session: Session) -> None:
    # The request's work commits in db.session: its key says so in that very
    # transaction (the claim's own sessions run while no claim is in g).
    if not has_request_context():
        return
    claimed = g.get("idempotency_claim")
    if claimed is not None and session is db.session():
        idempotency.mark_committed(session, *claimed)


def may_make_request() -> bool:
    """Whether the caller may call this endpoint, asked as FAB's @protect asks it (which
    runs only after this blueprint's before_request)."""
    view = current_app.view_functions.get(request.endpoint)
    api, name = getattr(view, "__self__", None), getattr(view, "_permission_name", None)
    if api is None or name is None:  # not a @protect'ed endpoint
        return True
    name = (api.method_permission_name or {}).get(view.__name__) or name
    permission = f"{PERMISSION_PREFIX}{name}"
    if permission not in api.base_permissions:
        return False
    return current_app.appbuilder.sm.has_access(permission, api.class_permission_name)


def caller_of_request() -> Caller | None:
    """Whose keys this request uses: the login of its JWT; None for a request without a
    valid one (its endpoint answers 401). A garage's API key is its own caller: a key
    and the colleague who made it never share keys."""
    from flask_jwt_extended import get_current_user, verify_jwt_in_request

    if g.get("api_key_id"):  # bound by the app's request hook before any blueprint's
        return Caller("api_key", g.api_key_id)
    try:
        verify_jwt_in_request(optional=True)
        user = get_current_user()
    except Exception:  # an invalid token: @protect answers 401 itself
        return None
    return Caller("user", user.id) if user is not None else None


def request_fingerprint() -> str:
    """Method, path (with its query) and body. A multipart body is read as its fields and
    files: a client sending the same file again picks another boundary."""
    path = request.path
    if request.query_string:
        path += "?" + request.query_string.decode("latin-1")
    if request.mimetype == "multipart/form-data":
        files = []
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest = hashlib.sha256()
            while chunk := upload.stream.read(1 << 16):
                digest.update(chunk)
            upload.stream.seek(0)  # the endpoint reads it next
            files.append([name, upload.filename, digest.hexdigest()])
        body = idempotency.canonical_json(
            {"form": sorted(request.form.items(multi=True)), "files": files}
        )
    else:
        body = request.get_data(cache=True)
        parsed = request.get_json(silent=True) if request.is_json else None
        if parsed is not None:
            body = idempotency.canonical_json(parsed)
    return idempotency.fingerprint(request.method, path, body)


def _claim():
    if request.method != "POST" or HEADER not in request.headers:
        return None
    caller = caller_of_request()
    if caller is None or not may_make_request():
        # The endpoint refuses it itself (401/403): no key is claimed, none replayed.
        return None
    key = idempotency.check_key(request.headers[HEADER])  # BadRequest: a 400
    with Session(db.engine) as session, unit_of_work(session):
        answer = idempotency.claim(session, caller, key, request_fingerprint(), now=utcnow())
    if answer is not None:
        replay = Response(answer.body, status=answer.status, headers=answer.headers)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    g.idempotency_claim = (caller, key)
    return None


def _finish(response: Response) -> Response:
    claimed = g.pop("idempotency_claim", None)
    if claimed is None:
        return response
    caller, key = claimed
    try:
        _keep_or_release(caller, key, response)
    except Exception:
        # The request is done and its answer stands; only a replay of it is lost.
        log.exception("could not store the answer for Idempotency-Key %r", key)
        _release_after_error(None, claimed)
    return response


def _keep_or_release(caller: Caller, key: str, response: Response) -> None:
    with Session(db.engine) as session, unit_of_work(session):
        # A 5xx (our failure) and a 429 (too many requests) ask to try again later:
        # the key is freed for that. Any other answer, a 4xx too, is the request's
        # outcome and is kept: the same key sent again gets it again instead of running
        # the request on whatever changed meanwhile (a 409 "already archived" turning
        # into a second action, a 422 into a create). A corrected request takes a new key.
        if response.status_code >= 500 or response.status_code == 429 or response.is_streamed:
            idempotency.release(session, caller, key)
        else:
            headers = {
                name: response.headers[name] for name in KEPT_HEADERS if name in response.headers
            }
            idempotency.record_answer(
                session, caller, key, Answer(response.status_code, headers, response.get_data())
            )


def _release_after_error(error, claimed=None) -> None:
    # The endpoint raised and no answer was made (after_request did not run): a key left
    # running would answer 409 for 24 hours.
    claimed = claimed or g.pop("idempotency_claim", None)
    if claimed is None:
        return
    try:
        with Session(db.engine) as session, unit_of_work(session):
            idempotency.release(session, *claimed)
    except Exception:
        log.exception("could not release Idempotency-Key %r", claimed[1])
