"""The nightly retention run (issue 19, R-DR-3; services/retention says what goes).

This job owns the transactions: each batch is committed as soon as it is emptied or
deleted (a table of millions is never one transaction holding locks for minutes), and
the audit entry with the run's counts is committed after the last batch."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from sqlalchemy.orm import Session

from admin_app.services import retention
from admin_app.services.retention import BATCH, RetentionResult

log = logging.getLogger(__name__)


def run(
    session: Session,
    now: dt.datetime,
    *,
    mail_days: int,
    batch_row_days: int,
    unconfirmed_list_days: int = retention.UNCONFIRMED_LIST_DAYS,
    batch: int = BATCH,
) -> RetentionResult:
    """Empty and delete what is past its time, a committed batch at a time. Forgotten
    lists are cancelled first, so their cells go with the cancelled lists' the same night
    once they are old enough."""
    result = RetentionResult(
        lists_cancelled=_committed(
            session,
            retention.cancel_unconfirmed_lists(
                session, now - dt.timedelta(days=unconfirmed_list_days), batch
            ),
        ),
        mail_bodies=_committed(
            session,
            retention.empty_mail_bodies(session, now - dt.timedelta(days=mail_days), batch),
        ),
        batch_rows=_committed(
            session,
            retention.empty_batch_rows(session, now - dt.timedelta(days=batch_row_days), batch),
        ),
        links=_committed(session, retention.delete_dead_tokens(session, now, batch)),
    )
    if any(getattr(result, name) for name in retention.COUNTED):
        # A night with nothing to do leaves no entry: the log line says it ran.
        retention.record_run(session, result)
        session.commit()
    log.info(
        "retention: %s unconfirmed lists cancelled, %s mail bodies emptied, "
        "%s customer-list rows emptied, %s links deleted",
        result.lists_cancelled,
        result.mail_bodies,
        result.batch_rows,
        result.links,
    )
    return result


def _committed(session: Session, batches: Iterator[int]) -> int:
    """Commits after each batch the service worked through; returns their total."""
    total = 0
    for done in batches:
        session.commit()
        total += done
    return total
