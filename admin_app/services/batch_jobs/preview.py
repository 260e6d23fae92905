"""Upload and preview (R-BJ-2, R-BJ-3): the file is checked as a whole, its rows staged
in their chunks and planned; small lists in the request, large ones by a worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden
from admin_app.domain.plates import display_plate
from admin_app.models import (
    BatchJob,
    BatchRow,
)
from admin_app.models.batch_jobs import BatchState
from admin_app.roles import GARAGE
from admin_app.services import vehicle_values
from admin_app.services.audit import Actor
from admin_app.services.batch_jobs.planning import ROW_FIELDS, counts_by_plan, plan_rows
from admin_app.services.bulk import (
    is_postgresql,
    load_rows,
)
from admin_app.services.customer_lists import ListRow, check_rows, read_list
from admin_app.services.emails import email_key

CHUNK = 5000
# SQLite has one writer: while a chunk is written, other garages' saves wait for it.
# 60,000 rows at a load of 4.5 on 2 cores: chunks of 5,000 held the lock 0.28-0.57 s and
# saves waited up to 1.1 s (p95 1.05 s); chunks of 2,000 0.16-0.44 s, saves <= 0.23 s,
# the run 12.6 s instead of 7.4 s (issue 13).
SQLITE_CHUNK = 2000


# Lists longer than this are previewed by a worker, with progress (R-BJ-2, R-X-3).
BACKGROUND_PREVIEW_ROWS = 20_000


def upload_list(
    session: Session,
    *,
    actor: Actor,
    filename: str,
    data: bytes,
    send_to_customers: bool,
    background_from: int = BACKGROUND_PREVIEW_ROWS,
    chunk_size: int | None = None,
) -> BatchJob:
    """Check the file as a whole (an unreadable one raises before anything is stored),
    then preview it: small lists at once, large ones in the background (`previewing`)."""
    if not actor.has(GARAGE) or not actor.garage_id:
        raise Forbidden(_l("Only a garage uploads customer lists."))
    read = read_list(filename, data)
    job = BatchJob(
        garage_id=actor.garage_id,
        filename=(filename or "lijst")[:255],
        uploaded_by_id=actor.id,
        uploaded_by=actor.name,
        send_to_customers=bool(send_to_customers),
        total_rows=read.size,
        counts=counts_by_plan({}),
    )
    session.add(job)
    if read.size > background_from:
        job.state = BatchState.previewing.value
        job.upload = data
        session.flush()
        from admin_app.queueing import enqueue_after_commit

        enqueue_after_commit(session, "admin_app.jobs.batch.preview_batch", job.id)
        return job
    rows: Iterable[ListRow] = check_rows(read)
    if not is_postgresql(session):
        # Checked before the job's INSERT takes SQLite's write lock: checking inside held
        # it 5.5 of the 6 s a 60,000-row preview took (issue 13). SQLite's load_rows holds
        # every row at once anyway; PostgreSQL streams them into its COPY.
        rows = list(rows)
    job.state = BatchState.preview.value
    session.flush()
    store_preview(session, job, rows, chunk_size)
    announce_job(session, job)
    return job


def announce_job(session: Session, job: BatchJob) -> None:
    """The garage's webhook event for the job's new state (issue 16): previewed, done or
    failed. The passports a list creates, sends or activates raise no event each: the
    done event carries the counts and where to read the rows."""
    from admin_app.services import webhooks

    event_type = {
        BatchState.preview.value: "batch_job.previewed",
        BatchState.done.value: "batch_job.done",
        BatchState.failed.value: "batch_job.failed",
    }[job.state]
    session.flush()
    webhooks.emit(session, job.garage_id, event_type, lambda: webhooks.batch_job_data(job))


# The worker's half of a large upload, in steps: the job (admin_app/jobs/batch.py)
# commits between them, so its progress shows and SQLite's write lock is let go.


def forget_staged_rows(session: Session, job: BatchJob) -> None:
    """Rows staged by an earlier, interrupted attempt at the preview go first."""
    session.execute(delete(BatchRow).where(BatchRow.batch_job_id == job.id))


def record_preview_progress(session: Session, job: BatchJob, done: int) -> None:
    """How many rows of the uploaded file are checked so far (R-X-3)."""
    session.execute(update(BatchJob).where(BatchJob.id == job.id).values(done_rows=done))


def checked_upload(job: BatchJob, progress: Callable[[int], None]):
    """The uploaded file's rows, each checked; ``progress`` hears how far it got."""
    if job.upload is None:  # kept while the job is previewing, dropped when it is done
        raise ValueError(f"batch job {job.id} has no upload left to check")
    return check_rows(read_list(job.filename, job.upload), progress=progress)


def finish_preview(session: Session, job: BatchJob) -> None:
    """The staged and planned list is previewed; its file, read, is kept no longer."""
    job.upload = None
    job.done_rows = 0
    job.state = BatchState.preview.value
    announce_job(session, job)


STAGED_COLUMNS = [
    "batch_job_id",
    "row_number",
    "plate",
    "shown_plate",
    "email",
    "email_key",
    "valid",
    "leads",
    "chunk",
    "values",
    "plan",
    "reason_code",
    "reason_params",
    *ROW_FIELDS,
]


def store_preview(session: Session, job: BatchJob, rows, chunk_size: int | None) -> None:
    """Stage the checked rows (COPY on PostgreSQL) in their chunks, then plan them all in
    one statement: the request's preview of a small list, in the request's transaction."""
    total = stage_rows(session, staged_rows(session, job, rows, chunk_size))
    plan_staged(session, job, total)


def staged_rows(session: Session, job: BatchJob, rows, chunk_size: int | None = None):
    """The checked ``rows`` as ``STAGED_COLUMNS`` tuples, each in its chunk, lazily: a
    worker stages them in pieces (``stage_rows``), each piece a transaction of its own."""
    if chunk_size is None:
        chunk_size = CHUNK if is_postgresql(session) else SQLITE_CHUNK
    chunk_of = chunk_assigner(chunk_size)
    leading: set[str] = set()
    for row in rows:
        key = email_key(row.email)
        valid = not row.refused
        leads = valid and key not in leading
        if leads:
            leading.add(key)
        yield _staged(job.id, row, key, leads, chunk_of(key if valid else None))


def _staged(job_id: int, row, key: str, leads: bool, chunk: int) -> tuple:
    """One checked row as its ``STAGED_COLUMNS``: a valid row's values in their typed
    columns, a refused row's cells as typed (for the refused-rows download)."""
    valid = not row.refused
    values = row.values
    return (
        job_id,
        row.row_number,
        row.plate,
        display_plate(row.plate) if valid else None,
        row.email,
        key,
        valid,
        leads,
        chunk,
        None if valid else _json_values(values),
        "create" if valid else "refused",
        row.reason_code,
        [list(reason) for reason in row.reasons] if row.reasons else None,
        *((values.get(name) or None) if valid else None for name in ROW_FIELDS),
    )


def stage_rows(session: Session, staged) -> int:
    """Insert ``staged_rows``' tuples into batch_row; returns how many."""
    return load_rows(session, BatchRow.__table__, STAGED_COLUMNS, staged)


def plan_staged(session: Session, job: BatchJob, total: int) -> None:
    """Plan every staged row of ``job`` (``total`` of them) in one statement, and count
    the plans."""
    job_id = job.id
    # What equals the vehicle register's is the register's, not typed (issue 18).
    vehicle_values.leave_out_registered(session, BatchRow.__table__, job_id)
    if is_postgresql(session):
        # Fresh statistics, or the planner guesses the staged rows' joins blind.
        session.execute(text("ANALYZE batch_row"))
    plan_rows(session, job)
    job.total_rows = total
    job.counts = counts_by_plan(
        dict(
            session.execute(
                select(BatchRow.plan, func.count())
                .where(BatchRow.batch_job_id == job.id)
                .group_by(BatchRow.plan)
            )
            .tuples()
            .all()
        )
    )


def chunk_assigner(size: int):
    """The chunk of each next row, given its e-mail (None: a refused row).

    A chunk is written in one transaction, and chunks run side by side: so all rows of an
    e-mail go into one chunk, or two chunks could each create that customer. New e-mails
    fill a chunk to four fifths; the rest is room for later rows of its e-mails. Should an
    e-mail outgrow its chunk (a lease company's thousands of cars), its further rows go
    into the open chunk, which then runs only after every earlier chunk committed.
    """
    fill = max(1, size * 4 // 5)
    chunk_of_email: dict[str, int] = {}
    rows_in = [0]  # per chunk; the last one is open

    def assign(key: str | None) -> int:
        chunk = chunk_of_email.get(key) if key else None
        if chunk is None or rows_in[chunk] >= size:
            if rows_in[-1] >= fill:
                rows_in.append(0)
            chunk = len(rows_in) - 1
            if key:
                chunk_of_email.setdefault(key, chunk)
        rows_in[chunk] += 1
        return chunk

    return assign


def _json_values(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
