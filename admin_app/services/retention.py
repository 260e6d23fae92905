"""Retention (R-DR-3, issue 19): what the console need not keep any longer goes, once a night.

- A finished mail's body: the outbox writes a mail at send time from ``subject`` and
  ``params`` (services/mails), so those two are its body. After MAIL_BODY_RETENTION_DAYS
  they are emptied; the row stays (recipient, kind, state, attempts, dates, last error),
  because the screens and rules still read it: the outbox screen and a passport's mails,
  the bounce rule (apk_reminders.address_refused: the last mail's state to an address),
  the one-a-minute guards on activation and password mails (kind, recipient, created_at).
  A mail not yet finished (waiting or being sent) is never touched: it must still be sent.
- A finished customer list's typed cells: after BATCH_ROW_RETENTION_DAYS a row keeps its
  number, outcome, reason code and passport; its contact cells, the cells as typed of a
  refused row and the typed values its reason quotes are emptied. A valid row keeps its
  plate, brand, model and APK date: vehicle facts, which stay with the car (as on erase).
- A customer list never confirmed: after UNCONFIRMED_LIST_DAYS in preview (or still being
  read, its worker lost) it is cancelled and its uploaded file dropped. A garage confirms
  a preview the day it uploads it; one forgotten would keep every customer on it for ever,
  and block the erase of each of them ("named on a list not yet run"), which Support
  cannot cancel. Its cells then go as a cancelled list's do, counted from its upload.
- Mailed links (access_token): deleted once used, expired or replaced by a newer link of
  their purpose (which peek_token refuses already). The stop links (tokens.STOP_LINKS) are
  never used up nor replaced, so they stay until they expire: an old mail's stop link
  keeps working until then.

Each kind is worked through in batches of BATCH rows, each batch its own transaction:
a table of millions must not be one transaction holding locks for minutes. The functions
below yield after each batch and the job (jobs/retention) commits there; the run writes
one audit entry with its counts, after the last batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from redis import Redis
from sqlalchemy import and_, case, exists, null, or_, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session, aliased

from admin_app.db import changed_rows
from admin_app.domain.clock import AMSTERDAM, local_today
from admin_app.models import AccessToken, BatchJob, BatchRow, OutboxMessage
from admin_app.models.batch_jobs import BatchState
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.outbox import OutboxState
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.tokens import STOP_LINKS

# After 03:00 Amsterdam: the quiet hours, after the nightly lists (02:00) have started.
RUN_HOUR = 3
# config.UNCONFIRMED_LIST_DAYS's default: a preview is confirmed the day it is made.
UNCONFIRMED_LIST_DAYS = 30
BATCH = 500
ACTOR = Actor.job("retention")
# The audit entry's table; services/audit names the entry and its counts.
AUDIT_TABLE = "retention"

# A mail in one of these states is still to be sent: its body is what will be sent.
UNFINISHED_MAIL = (OutboxState.pending.value, OutboxState.sending.value)
# A list waiting for its garage's confirmation (or still being read for its preview).
UNCONFIRMED_LIST = (BatchState.previewing.value, BatchState.preview.value)
# A list that has run, failed or was cancelled: its rows are read only, never run again.
FINISHED_LIST = (BatchState.done.value, BatchState.failed.value, BatchState.cancelled.value)
# Cells of a row that describe the customer (a profile's contact details): emptied (NULL,
# or "" where the column is required).
CONTACT_CELLS = CONTACT_FIELDS
# Parameters of a refusal's reason that quote a cell as typed (domain/reasons):
# replaced by an ellipsis, so the reason still reads ("'…' is not a valid e-mail address").
QUOTED_CELLS = {"plate", "email", "value"}
EMPTIED_CELL = "…"

# The audit entry's counts, as services/audit labels them.
# "links", not "tokens": the audit screen leaves out any field named like a secret.
COUNTED = ("lists_cancelled", "mail_bodies", "batch_rows", "links")


@dataclass(frozen=True)
class RetentionResult:
    lists_cancelled: int
    mail_bodies: int
    batch_rows: int
    links: int


def due(now: dt.datetime) -> bool:
    """The run waits for the night's quiet hours."""
    return now.astimezone(AMSTERDAM).hour >= RUN_HOUR


def claim_day(redis: Redis, queue_name: str, now: dt.datetime) -> bool:
    """Today's run for this worker alone, however many tick. The claim lives in Redis,
    like the clock's heartbeat: a run is idempotent and cumulative, so a claim lost with
    Redis at worst runs the day twice, and a day whose run died is made up the next."""
    key = f"console:{queue_name}:retention:{local_today(now).isoformat()}"
    return bool(
        redis.set(key, now.isoformat(), nx=True, ex=int(dt.timedelta(days=2).total_seconds()))
    )


def record_run(session: Session, result: RetentionResult) -> None:
    """The run's one audit entry, with its counts."""
    counts = {name: (None, getattr(result, name)) for name in COUNTED}
    record_bulk(session, ACTOR, AUDIT_TABLE, [("retention", None, counts)])


def _batches(session: Session, ids_after, batch: int):
    """Ids in ascending batches: ``ids_after(last_id)`` selects the next ones after
    ``last_id``. A key to seek from, so a batch does not read again what one before did."""
    last = 0
    while ids := session.scalars(ids_after(last).limit(batch)).all():
        yield ids
        last = ids[-1]


def _update_in_batches(
    session: Session, model, conditions: tuple, values: dict, batch: int
) -> Iterator[int]:
    """Rows of ``model`` meeting ``conditions`` set to ``values``, a batch of ids at a time;
    the conditions are checked again in each UPDATE, so a row changed meanwhile (a mail
    picked up, a list confirmed) is left. Yields how many after each batch."""
    for ids in _batches(
        session,
        lambda last: (
            select(model.id)
            .where(model.id > last, *conditions)
            .order_by(model.id)
            .execution_options(**{ALL_TENANTS: True})
        ),
        batch,
    ):
        yield changed_rows(
            session.execute(
                update(model)
                .where(model.id.in_(ids), *conditions)
                .values(values)
                .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
            )
        )


def empty_mail_bodies(session: Session, before: dt.datetime, batch: int = BATCH) -> Iterator[int]:
    """Finished mails made before ``before``: subject and params emptied. Yields how many
    after each batch, for the caller to commit."""
    old_and_finished = (
        OutboxMessage.state.not_in(UNFINISHED_MAIL),
        OutboxMessage.created_at < before,
        OutboxMessage.subject != "",  # "" once emptied: its subject is never empty before
    )
    return _update_in_batches(
        session, OutboxMessage, old_and_finished, {"subject": "", "params": {}}, batch
    )


def cancel_unconfirmed_lists(
    session: Session, before: dt.datetime, batch: int = BATCH
) -> Iterator[int]:
    """Lists uploaded before ``before`` and never confirmed: cancelled, their uploaded file
    dropped. Conditional on the state, like the garage's own cancel: a confirm at the same
    moment wins or loses whole. Yields how many after each batch, for the caller to
    commit."""
    forgotten = (BatchJob.state.in_(UNCONFIRMED_LIST), BatchJob.uploaded_at < before)
    return _update_in_batches(
        session,
        BatchJob,
        forgotten,
        {"state": BatchState.cancelled.value, "upload": None},
        batch,
    )


def _holds_cells():
    """A row that still holds a typed cell (after emptying, every value is NULL or "")."""
    return or_(
        BatchRow.email != "",
        BatchRow.email_key != "",
        BatchRow.values.is_not(None),
        and_(BatchRow.valid.is_(False), BatchRow.plate != ""),
        *(getattr(BatchRow, name).is_not(None) for name in CONTACT_CELLS),
    )


def empty_batch_rows(session: Session, before: dt.datetime, batch: int = BATCH) -> Iterator[int]:
    """Rows of lists finished before ``before``: their typed cells emptied (see the module
    text for what stays). Yields how many rows after each batch, for the caller to
    commit."""
    finished_before = select(BatchJob.id).where(
        BatchJob.state.in_(FINISHED_LIST),
        # A cancelled list never finished: its upload dates it.
        case(
            (BatchJob.finished_at.is_not(None), BatchJob.finished_at),
            else_=BatchJob.uploaded_at,
        )
        < before,
    )
    old_rows = (BatchRow.batch_job_id.in_(finished_before), _holds_cells())
    for ids in _batches(
        session,
        lambda last: (
            select(BatchRow.id)
            .where(BatchRow.id > last, *old_rows)
            .order_by(BatchRow.id)
            .execution_options(**{ALL_TENANTS: True})
        ),
        batch,
    ):
        quoting = session.execute(
            select(BatchRow.id, BatchRow.reason_params).where(
                BatchRow.id.in_(ids), BatchRow.reason_code.is_not(None)
            )
        ).all()
        session.execute(
            update(BatchRow)
            .where(BatchRow.id.in_(ids))
            .values(
                email="",
                email_key="",
                # SQL NULL, not JSON null: "nothing held" reads the same on both databases.
                values=null(),
                plate=case((BatchRow.valid.is_(True), BatchRow.plate), else_=""),
                **dict.fromkeys(CONTACT_CELLS),
            )
            .execution_options(synchronize_session=False)
        )
        scrubbed = [
            {"id": row_id, "reason_params": _without_quoted_cells(params)}
            for row_id, params in quoting
            if params and _without_quoted_cells(params) != params
        ]
        if scrubbed:
            session.execute(update(BatchRow), scrubbed)
        yield len(ids)


def _without_quoted_cells(params: list) -> list:
    """A refusal's [code, parameters] pairs with the typed values they quote replaced."""
    return [
        [
            code,
            {key: EMPTIED_CELL if key in QUOTED_CELLS else value for key, value in values.items()},
        ]
        for code, values in params
    ]


def _dead_token(now: dt.datetime):
    """A link that can no longer act: used, expired, or replaced by a newer link of its
    purpose for the same subject (tokens.peek_token's rules; stop links are never
    replaced). Deleted in ascending ids, so an older link is gone before the newer one
    that replaced it, and no link ever comes back to life."""
    newer = aliased(AccessToken)
    same_target = or_(
        and_(AccessToken.subject_id.is_not(None), newer.subject_id == AccessToken.subject_id),
        and_(AccessToken.subject_id.is_(None), newer.user_id == AccessToken.user_id),
    )
    replaced = and_(
        AccessToken.purpose.not_in(STOP_LINKS),
        exists().where(
            newer.id > AccessToken.id, newer.purpose == AccessToken.purpose, same_target
        ),
    )
    return or_(AccessToken.used_at.is_not(None), AccessToken.expires_at <= now, replaced)


def delete_dead_tokens(session: Session, now: dt.datetime, batch: int = BATCH) -> Iterator[int]:
    """Mailed links that can no longer act, deleted. Yields how many after each batch, for
    the caller to commit."""
    for ids in _batches(
        session,
        lambda last: (
            select(AccessToken.id)
            .where(AccessToken.id > last, _dead_token(now))
            .order_by(AccessToken.id)
        ),
        batch,
    ):
        yield changed_rows(
            session.execute(
                sql_delete(AccessToken)
                .where(AccessToken.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        )
