"""Exports a worker builds (issue 15): an Excel file of more than XLSX_IN_REQUEST rows.

The request records what to build (ExportFile: who, the list screen and its arguments,
the filter in words, the rows) and queues ``jobs.exports.build_export_file``; the worker
reruns the screen's query as that user and keeps the file in the database, where any web
process finds it. Only the user who asked may fetch it, for LIFETIME; then it is gone.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, undefer

from admin_app.db import changed_rows
from admin_app.domain.errors import Gone, NotFound
from admin_app.models import ExportFile
from admin_app.services.audit import Actor

LIFETIME = dt.timedelta(hours=24)


def start_export_file(
    session: Session,
    *,
    actor: Actor,
    list_name: str,
    endpoint: str,
    arguments: str,
    filter_text: str,
    fmt: str,
    rows: int,
    locale: str,
    now: dt.datetime,
) -> ExportFile:
    """Record the export and queue its worker job (after commit). Flushes."""
    from admin_app.queueing import enqueue_after_commit

    file = ExportFile(
        user_id=actor.id,
        user_name=actor.name,
        garage_id=actor.garage_id,
        list_name=list_name,
        endpoint=endpoint,
        arguments=arguments,
        filter_text=filter_text,
        fmt=fmt,
        rows=rows,
        locale=locale,
        state="queued",
        progress=0,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(file)
    session.flush()
    enqueue_after_commit(session, "admin_app.jobs.exports.build_export_file", file.id)
    return file


def get_export_file(
    session: Session, file_id, *, user_id: int, now: dt.datetime, with_data: bool = False
) -> ExportFile:
    """The user's own export; NotFound for anyone else's (or none), Gone once expired."""
    query = select(ExportFile).where(ExportFile.id == _id(file_id), ExportFile.user_id == user_id)
    if with_data:
        query = query.options(undefer(ExportFile.data))
    file = session.scalars(query).first()
    if file is None:
        raise NotFound(_l("Not found."))
    if file.expires_at <= now:
        raise Gone(
            _l(
                "This export was kept for 24 hours and has been removed. Export the list "
                "again for a fresh file."
            )
        )
    return file


def _id(value) -> int:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return 0
    return ident if 0 < ident < 2**31 else 0


def mark_running(session: Session, file_id: int) -> bool:
    """Claim a queued export for this run; False when it is no longer to be built (done,
    expired, or claimed by another worker). The job commits the claim before it builds."""
    claimed = changed_rows(
        session.execute(
            update(ExportFile)
            .where(ExportFile.id == file_id, ExportFile.state.in_(("queued", "running")))
            .values(state="running", progress=0)
        )
    )
    return bool(claimed)


def set_progress(session: Session, file_id: int, done: int) -> None:
    """Rows written so far, committed at once by the job (jobs/progress; the page polls
    it). Own session: the worker's reading session holds its cursor open."""
    session.execute(update(ExportFile).where(ExportFile.id == file_id).values(progress=done))


def finish(session: Session, file_id: int, data: bytes, rows: int, now: dt.datetime) -> None:
    session.execute(
        update(ExportFile)
        .where(ExportFile.id == file_id)
        .values(state="done", progress=rows, rows=rows, data=data, finished_at=now)
    )


def fail(session: Session, file_id: int, error: str, now: dt.datetime) -> None:
    session.execute(
        update(ExportFile)
        .where(ExportFile.id == file_id)
        .values(state="failed", error=error[:500], finished_at=now)
    )


# An expired export's row stays this long without its bytes, so its link says "removed"
# (410) rather than "not found".
KEPT_AS_GONE = dt.timedelta(days=7)


def purge_expired(session: Session, now: dt.datetime) -> int:
    """Drop the bytes of exports past their 24 hours, and the rows a week later. Returns
    how many files were dropped."""
    dropped = changed_rows(
        session.execute(
            update(ExportFile)
            .where(ExportFile.expires_at <= now, ExportFile.data.is_not(None))
            .values(data=None)
        )
    )
    session.execute(delete(ExportFile).where(ExportFile.expires_at <= now - KEPT_AS_GONE))
    return dropped
