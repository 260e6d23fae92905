"""`Idempotency-Key` (issue 16): a request sent again with the same key gets the first
answer, and does nothing a second time.

A key belongs to its caller (a login or an API key) and lives LIFETIME. It is stored with
the fingerprint of its request (method, path, body) and, once the request is done, the
answer to give again. Claiming a key is one INSERT that the unique index per caller lets
succeed once, whatever the number of web processes; whoever loses reads the row:

- still running: Conflict (409), try again in a moment;
- done for another request: InvalidInput (422), the key was used for something else;
- done for this request: the stored answer, to be sent as it was.

Expired rows are ignored (and replaced) until the worker's clock purges them. A web
process can die in a request (gunicorn's timeout, a deploy): the request's own
transaction marks its key COMMITTED with its work, so a claim still RUNNING after
STALE_AFTER did nothing and is free again, while one whose work committed but whose
answer was lost is never run a second time (409, saying so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.errors import BadRequest, Conflict, InvalidInput
from admin_app.models import IdempotencyKey
from admin_app.services.bulk import insert_on_conflict

LIFETIME = dt.timedelta(hours=24)
MAX_LENGTH = 255
HEADER = "Idempotency-Key"
RUNNING, COMMITTED, DONE = "running", "committed", "done"
# Longer than any request may run (gunicorn's --timeout is 300 s, README): a claim still
# RUNNING after it belongs to a process that died before its work committed.
STALE_AFTER = dt.timedelta(minutes=10)


class Caller(NamedTuple):
    """Whose key it is: ("user", id) or ("api_key", id)."""

    kind: str
    id: int

    def where(self):
        column = IdempotencyKey.user_id if self.kind == "user" else IdempotencyKey.api_key_id
        return column == self.id

    def columns(self) -> dict:
        return {"user_id": self.id} if self.kind == "user" else {"api_key_id": self.id}


@dataclass(frozen=True)
class Answer:
    """The stored answer to a request done before."""

    status: int
    headers: dict
    body: bytes


class OtherRequest(InvalidInput):
    """The key was used before for a request with another method, path or body."""


def check_key(key: str) -> str:
    """The key as sent; BadRequest unless it is 1–255 printable ASCII characters."""
    if not 1 <= len(key) <= MAX_LENGTH or not all(" " <= c <= "~" for c in key):
        raise BadRequest(
            _l("%(header)s must be 1 to 255 printable ASCII characters.", header=HEADER),
            field=HEADER,
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 over method, path and body, each length-prefixed (no two requests mix up)."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def canonical_json(value) -> bytes:
    """JSON with sorted keys and no spaces: the same data is the same body."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def claim(
    session: Session, caller: Caller, key: str, request_print: str, *, now: dt.datetime
) -> Answer | None:
    """Claim ``key`` for this request: None when it is ours to run (inserted; the caller
    commits it, or keeps it in the transaction of the work); the stored Answer when this
    request was done before. Conflict while the first one still runs; OtherRequest when
    the key was used for another request."""
    for _ in range(2):  # once more when an expired row was in the way
        claimed = changed_rows(
            session.execute(
                _insert(session)
                .values(
                    **caller.columns(),
                    key=key,
                    fingerprint=request_print,
                    state=RUNNING,
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
                .on_conflict_do_nothing()
            )
        )
        if claimed:
            return None
        earlier = session.scalars(
            select(IdempotencyKey).where(caller.where(), IdempotencyKey.key == key)
        ).first()
        if earlier is None:  # released by its request meanwhile
            continue
        if earlier.expires_at <= now:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == earlier.id))
            continue
        if earlier.state == RUNNING and earlier.created_at <= now - STALE_AFTER:
            # Its process died before its work committed: nothing was done.
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.id == earlier.id, IdempotencyKey.state == RUNNING
                )
            )
            continue
        if earlier.fingerprint != request_print:
            raise OtherRequest(
                _l(
                    "This %(header)s was used for another request; "
                    "send a new key with a new request.",
                    header=HEADER,
                ),
                field=HEADER,
            )
        if earlier.state == COMMITTED and earlier.created_at <= now - STALE_AFTER:
            raise Conflict(
                _l(
                    "The first request with this %(header)s was carried out, but its "
                    "answer was lost; look up its result instead of sending it again.",
                    header=HEADER,
                ),
                field=HEADER,
            )
        if earlier.state in (RUNNING, COMMITTED) or earlier.status is None:
            raise Conflict(
                _l(
                    "The first request with this %(header)s is still being handled; "
                    "try again in a moment.",
                    header=HEADER,
                ),
                field=HEADER,
            )
        return Answer(earlier.status, dict(earlier.headers or {}), earlier.body or b"")
    raise Conflict(_l("This conflicts with the current state."), field=HEADER)


def _insert(session: Session):
    """INSERT … ON CONFLICT DO NOTHING for the keys (services/bulk)."""
    return insert_on_conflict(session.get_bind().dialect.name, IdempotencyKey)


def mark_committed(session: Session, caller: Caller, key: str) -> None:
    """In the transaction of the claimed request's work, as it commits: the work is done,
    so the key is never freed for a second run (see release)."""
    session.execute(
        update(IdempotencyKey)
        .where(caller.where(), IdempotencyKey.key == key, IdempotencyKey.state == RUNNING)
        .values(state=COMMITTED)
    )


def record_answer(session: Session, caller: Caller, key: str, answer: Answer) -> None:
    """The request claimed with ``key`` is done: keep its answer to give again."""
    session.execute(
        update(IdempotencyKey)
        .where(
            caller.where(),
            IdempotencyKey.key == key,
            IdempotencyKey.state.in_((RUNNING, COMMITTED)),
        )
        .values(state=DONE, status=answer.status, headers=answer.headers, body=answer.body)
    )


def release(session: Session, caller: Caller, key: str) -> None:
    """The claimed request failed in a way worth trying again: the key is free again —
    unless its work committed (a failure after that must not run it twice)."""
    session.execute(
        delete(IdempotencyKey).where(
            caller.where(), IdempotencyKey.key == key, IdempotencyKey.state == RUNNING
        )
    )


def purge_expired(session: Session, now: dt.datetime) -> int:
    """Remove the keys past their LIFETIME (the worker's clock); the number removed."""
    expired = delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now)
    return changed_rows(session.execute(expired))
