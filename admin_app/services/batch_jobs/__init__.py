"""Customer-list batch jobs (R-BJ-2…6): preview, confirm for the night, run in chunks.

A job works set-based, a chunk of rows at a time: a few queries and bulk writes per chunk,
never one per row. Each chunk commits its passports, customers, audit rows, outbox rows
and row outcomes together, so a killed worker resumes after the last committed chunk and
a second run of the same file only finds `unchanged` rows.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Query, Session, aliased
from sqlalchemy.schema import CreateTable

from admin_app.domain.clock import AMSTERDAM
from admin_app.domain.errors import Conflict, Forbidden, NotFound
from admin_app.domain.plates import display_plate
from admin_app.models import (
    BatchJob,
    BatchRow,
    Customer,
    Garage,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.roles import ADMIN, GARAGE, SUPPORT
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services import vehicle_values
from admin_app.services.audit import Actor, record_select
from admin_app.services.bulk import (
    is_postgresql,
    json_changes,
    json_pair,
    load_rows,
    sql_format,
)
from admin_app.services.customer_lists import HEADERS, TEMPLATE_HEADER, check_rows, read_list
from admin_app.services.emails import email_key

NIGHTLY_HOUR = 1
CHUNK = 5000
# SQLite has one writer: while a chunk is written, other garages' saves wait for it.
# 60,000 rows at a load of 4.5 on 2 cores: chunks of 5,000 held the lock 0.28-0.57 s and
# saves waited up to 1.1 s (p95 1.05 s); chunks of 2,000 0.16-0.44 s, saves <= 0.23 s,
# the run 12.6 s instead of 7.4 s (issue 13).
SQLITE_CHUNK = 2000
# SQLite's busy handler sleeps up to 100 ms between its tries for the write lock.
SQLITE_TURN_SECONDS = 0.1
SQLITE_STAGED_PER_COMMIT = 10_000
STALE_HEARTBEAT = dt.timedelta(minutes=10)
PLANS = ("create", "update", "unchanged", "refused")


# --- schedule (R-BJ-4) ---------------------------------------------------------------------


def next_nightly_run(now: dt.datetime) -> dt.datetime:
    """The next 01:00 Europe/Amsterdam after ``now``, winter and summer time alike."""
    local = now.astimezone(AMSTERDAM)
    candidate = dt.datetime.combine(local.date(), dt.time(NIGHTLY_HOUR), tzinfo=AMSTERDAM)
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time(NIGHTLY_HOUR), tzinfo=AMSTERDAM
        )
    return candidate.astimezone(dt.UTC)


# --- planning rows in the database -------------------------------------------------------

LOCKED_STATES = (PassportState.activated.value, PassportState.transfer_pending.value)
VEHICLE_FIELDS = ("brand", "model")
ROW_FIELDS = (*CONTACT_FIELDS, *VEHICLE_FIELDS, "apk_expiry")


def _filled_and_different(row_column, stored_column):
    """A cell the list fills in that differs from what is stored: empty cells change nothing."""
    return and_(row_column.is_not(None), func.coalesce(stored_column, "") != row_column)


def _affinity_free(session: Session, column):
    """``column`` as a value SQLite compares with an expression index's key.

    SQLite uses an index on an expression such as lower(email) only where the comparison
    has no affinity; a text column on the other side gives it TEXT, and the lookup reads
    every customer of the garage instead (1 s per 5,000 customers per chunk: a 20,000-row
    list spent 24 of its 44 s there, issue 13). `x || ''` is the same text without one."""
    if is_postgresql(session):
        return column
    return column.op("||")(literal("", String))


def _passport_differs(passport, owner):
    return or_(
        func.lower(owner.email) != BatchRow.email_key,
        *(
            _filled_and_different(getattr(BatchRow, name), getattr(passport, name))
            for name in VEHICLE_FIELDS
        ),
        and_(
            BatchRow.apk_expiry.is_not(None),
            passport.apk_expiry.is_distinct_from(BatchRow.apk_expiry),
        ),
    )


def _contact_differs(customer=Customer):
    return or_(
        *(
            _filled_and_different(getattr(BatchRow, name), getattr(customer, name))
            for name in CONTACT_FIELDS
        )
    )


@dataclass(frozen=True)
class _Texts:
    """A run's words, translated once: chunks run in threads, outside any app context.
    (Refusal reasons are codes: they are put into words when read.)"""

    mail_subject: str

    @classmethod
    def translated(cls) -> _Texts:
        with force_locale("nl"):  # the mails are Dutch, whoever runs the job
            subject = str(_l("Your AutoPassport for %(plate)s from %(garage)s"))
        return cls(mail_subject=subject)


def _planned(job_id: int, garage_id: int, *criteria):
    """What each of the job's rows matching ``criteria`` will do, as of now: one lookup of
    the plate's live passport (at any garage) and its owner per row.

    create: no live passport with the plate; refused: refused by its own check, live at
    another garage, or the e-mail of an activated or transferred passport would change
    (R-PP-7); update: the owner's e-mail, a vehicle field, or (for the row that leads its
    e-mail) the customer's contact data differs; unchanged otherwise. Columns: row_id,
    plate, plan, reason_code, passport_id (the live passport at this garage).
    """
    passport, owner = aliased(Passport), aliased(Customer)
    here = passport.garage_id == garage_id
    elsewhere = passport.garage_id != garage_id
    transferred = exists().where(
        Transfer.passport_id == passport.id,
        Transfer.kind == "owner",
        Transfer.state == TransferState.accepted.value,
    )
    locked = and_(
        here,
        func.lower(owner.email) != BatchRow.email_key,
        or_(passport.state.in_(LOCKED_STATES), transferred),
    )
    differs = or_(_passport_differs(passport, owner), and_(BatchRow.leads, _contact_differs(owner)))
    return (
        select(
            BatchRow.id.label("row_id"),
            BatchRow.plate,
            case(
                (~BatchRow.valid, "refused"),
                (passport.id.is_(None), "create"),
                (elsewhere, "refused"),
                (locked, "refused"),
                (differs, "update"),
                else_="unchanged",
            ).label("plan"),
            # Codes, put into words when read (domain/reasons); a row refused by its
            # own check keeps its codes and their parameters from the upload.
            case(
                (~BatchRow.valid, BatchRow.reason_code),
                (elsewhere, literal("other_garage")),
                (locked, literal("email_locked")),
                else_=null(),
            ).label("reason_code"),
            case((here, passport.id), else_=null()).label("passport_id"),
        )
        .outerjoin(
            passport,
            and_(
                passport.plate == BatchRow.plate,
                passport.state != PassportState.archived.value,
            ),
        )
        .outerjoin(owner, owner.id == passport.owner_id)
        .where(BatchRow.batch_job_id == job_id, *criteria)
    )


def _plan_rows(session: Session, job: BatchJob) -> None:
    """The preview's plan for every checked row; written only where it is not `create`
    (how a row is staged), so a list of new cars costs reads, not a rewrite."""
    planned = _planned(job.id, job.garage_id, BatchRow.valid).subquery()
    session.execute(
        update(BatchRow)
        .where(BatchRow.id == planned.c.row_id, planned.c.plan != BatchRow.plan)
        .values(plan=planned.c.plan, reason_code=planned.c.reason_code)
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    )


# --- upload and preview (R-BJ-2, R-BJ-3) ---------------------------------------------------


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
        counts=_counts({}),
    )
    session.add(job)
    if read.size > background_from:
        job.state = BatchState.previewing.value
        job.upload = data
        session.flush()
        from admin_app.queueing import enqueue_after_commit

        enqueue_after_commit(session, "admin_app.jobs.batch.preview_batch", job.id)
        return job
    rows = check_rows(read)
    if not is_postgresql(session):
        # Checked before the job's INSERT takes SQLite's write lock: checking inside held
        # it 5.5 of the 6 s a 60,000-row preview took (issue 13). SQLite's load_rows holds
        # every row at once anyway; PostgreSQL streams them into its COPY.
        rows = list(rows)
    job.state = BatchState.preview.value
    session.flush()
    _store_preview(session, job, rows, chunk_size)
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


def preview_in_background(session: Session, job_id: int, chunk_size: int | None = None) -> BatchJob:
    """The worker's half of a large upload: check every row, with progress, then plan."""
    job = session.scalars(
        select(BatchJob).where(BatchJob.id == job_id).execution_options(**{ALL_TENANTS: True})
    ).one()
    if job.state != BatchState.previewing.value:
        return job

    def progress(done: int) -> None:
        session.execute(update(BatchJob).where(BatchJob.id == job.id).values(done_rows=done))
        session.commit()

    # Progress commits as it goes; rows of an earlier, interrupted attempt go first.
    session.execute(delete(BatchRow).where(BatchRow.batch_job_id == job.id))
    rows = list(check_rows(read_list(job.filename, job.upload), progress=progress))
    # On SQLite the rows go in committed pieces: one INSERT of 60,000 held the write lock
    # 0.9 s at a load of 5 (issue 13). A rerun deletes them first, as above.
    pieces = None if is_postgresql(session) else SQLITE_STAGED_PER_COMMIT
    _store_preview(session, job, rows, chunk_size, commit_every=pieces)
    job.upload = None
    job.done_rows = 0
    job.state = BatchState.preview.value
    announce_job(session, job)
    session.commit()
    return job


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


def _store_preview(
    session: Session,
    job: BatchJob,
    rows,
    chunk_size: int | None,
    *,
    commit_every: int | None = None,
) -> None:
    """Stage the checked rows (COPY on PostgreSQL) in their chunks, then plan them all in
    one statement. ``commit_every``: commit after each so many staged rows (only where
    this function owns the transaction)."""
    job_id = job.id
    leading: set[str] = set()
    if chunk_size is None:
        chunk_size = CHUNK if is_postgresql(session) else SQLITE_CHUNK
    chunk_of = _chunk_assigner(chunk_size)

    def staged():
        for row in rows:
            key = email_key(row.email)
            valid = not row.refused
            leads = valid and key not in leading
            if leads:
                leading.add(key)
            chunk = chunk_of(key if valid else None)
            values = row.values
            yield (
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

    if commit_every:
        total, pending = 0, staged()
        while piece := list(islice(pending, commit_every)):
            total += load_rows(session, BatchRow.__table__, STAGED_COLUMNS, piece)
            session.commit()
            time.sleep(SQLITE_TURN_SECONDS)
    else:
        total = load_rows(session, BatchRow.__table__, STAGED_COLUMNS, staged())
    # What equals the vehicle register's is the register's, not typed (issue 18).
    vehicle_values.leave_out_registered(session, BatchRow.__table__, job_id)
    if is_postgresql(session):
        # Fresh statistics, or the planner guesses the staged rows' joins blind.
        session.execute(text("ANALYZE batch_row"))
    _plan_rows(session, job)
    job.total_rows = total
    job.counts = _counts(
        dict(
            session.execute(
                select(BatchRow.plan, func.count())
                .where(BatchRow.batch_job_id == job.id)
                .group_by(BatchRow.plan)
            ).all()
        )
    )


def _chunk_assigner(size: int):
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


def _counts(counted: dict) -> dict:
    return {key: counted.get(key, 0) for key in PLANS}


def _json_values(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


def get_job(session: Session, job_id) -> BatchJob:
    job = scoped_get(session, BatchJob, job_id)
    if job is None:
        raise NotFound(_l("Not found."))
    return job


def confirm_job(
    session: Session, job_id, *, actor: Actor, now: dt.datetime | None = None
) -> BatchJob:
    """The garage confirms: the job runs in the next nightly batch at 01:00 (R-BJ-4)."""
    job = get_job(session, job_id)
    if not actor.has(GARAGE):
        raise Forbidden(_l("The garage that uploaded the list confirms it."))
    if job.state != BatchState.preview.value:
        raise Conflict(_l("Only a previewed list can be confirmed."))
    job.state = BatchState.scheduled.value
    job.scheduled_for = next_nightly_run(now or utcnow())
    session.flush()
    return job


def cancel_job(session: Session, job_id, *, actor: Actor) -> BatchJob:
    job = get_job(session, job_id)
    if not actor.has(GARAGE, ADMIN):
        raise Forbidden(_l("You may not do this."))
    cancellable = (BatchState.preview.value, BatchState.scheduled.value)
    # Conditional, like the worker's claim: of a cancel and a start at once, one wins.
    result = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job.id, BatchJob.state.in_(cancellable))
        .values(state=BatchState.cancelled.value)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("A job can be cancelled until it starts."))
    session.refresh(job)
    return job


def run_now(session: Session, job_id, *, actor: Actor, now: dt.datetime | None = None) -> BatchJob:
    """Admin and Support run a confirmed job at once (R-BJ-4)."""
    if not actor.has(ADMIN, SUPPORT):
        raise Forbidden(_l("You may not do this."))
    job = get_job(session, job_id)
    if job.state != BatchState.scheduled.value:
        raise Conflict(_l("Only a confirmed job that has not started can be run now."))
    job.scheduled_for = now or utcnow()
    session.flush()
    return job


# --- claiming due jobs (several workers, restarts) -----------------------------------------


def claim_due_jobs(
    session: Session, now: dt.datetime, stale_after: dt.timedelta = STALE_HEARTBEAT
) -> list[int]:
    """The jobs the clock puts on the queue now: scheduled ones that are due, and running
    ones whose worker died. Each is marked queued, so it is queued once per stale time.

    Queuing claims nothing: a job stays `scheduled` (and can be cancelled) until a worker
    starts it and claims it (``claim_job``). Queued twice, it still runs once: a job that
    waited in the rq queue past the stale time, behind other lists at 01:00, is queued
    again, and whichever copy a worker takes second finds it claimed (issue 17).
    """
    unqueued = or_(BatchJob.queued_at.is_(None), BatchJob.queued_at < now - stale_after)
    due = (BatchJob.state == BatchState.scheduled.value) & (BatchJob.scheduled_for <= now)
    abandoned = (BatchJob.state == BatchState.running.value) & (
        BatchJob.heartbeat_at < now - stale_after
    )
    candidates = session.scalars(
        select(BatchJob.id)
        .where(due | abandoned, unqueued)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    queued = []
    for job_id in candidates:
        # The same condition again in the UPDATE: of two clocks ticking at once, one queues.
        result = session.execute(
            update(BatchJob)
            .where(BatchJob.id == job_id, due | abandoned, unqueued)
            .values(queued_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            queued.append(job_id)
    session.commit()
    return queued


def queue_due_jobs(session: Session, *, stale_after: dt.timedelta | None = None) -> list[int]:
    """The due jobs (``claim_due_jobs``, committed) on the rq queue, each for a worker's
    ``process_batch``: by the clock's tick, and by "Run now" at once. Queued by name:
    services import no jobs (issue 20)."""
    from flask import current_app

    from admin_app.queueing import get_queue

    if stale_after is None:
        stale_after = dt.timedelta(seconds=current_app.config["BATCH_STALE_SECONDS"])
    claimed = claim_due_jobs(session, utcnow(), stale_after=stale_after)
    queue = get_queue()
    for job_id in claimed:
        # A unique rq id: a job queued again (stale, or taken over after a crash) is a new
        # rq job; the worker's claim decides which copy runs.
        queue.enqueue(
            "admin_app.jobs.batch.process_batch",
            job_id,
            job_id=f"batch-{job_id}-{uuid.uuid4().hex[:8]}",
            job_timeout=3600,
        )
    return claimed


def claim_job(
    session: Session,
    job_id: int,
    *,
    worker: str,
    now: dt.datetime | None = None,
    stale_after: dt.timedelta = STALE_HEARTBEAT,
) -> bool:
    """The worker that starts a job claims it: one conditional UPDATE, so of two workers
    holding a copy of it only one gets the row. A scheduled job that is due, or a running
    one whose heartbeat stopped (its worker died), can be claimed; a cancelled, finished
    or live one cannot. Commits, so the claim (and `running`) shows at once.

    "Due" is the clock's word (``claim_due_jobs`` queued it): a scheduled job that was
    queued; the worker does not second-guess the schedule with its own clock."""
    now = now or utcnow()
    due = (BatchJob.state == BatchState.scheduled.value) & BatchJob.queued_at.is_not(None)
    abandoned = (BatchJob.state == BatchState.running.value) & (
        BatchJob.heartbeat_at < now - stale_after
    )
    result = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id, due | abandoned)
        .values(
            state=BatchState.running.value,
            claimed_by=worker[:200],
            claimed_at=now,
            heartbeat_at=now,
            started_at=func.coalesce(BatchJob.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


# --- the run (R-BJ-6) ----------------------------------------------------------------------


def process_job(
    session: Session,
    job_id: int,
    *,
    parallel: int = 1,
    worker: str = "worker",
    stale_after: dt.timedelta = STALE_HEARTBEAT,
) -> BatchJob:
    """Claim the job as ``worker`` and run it to the end, one committed chunk at a time;
    safe to repeat. A job another live worker claimed, or one cancelled meanwhile, is left.

    ``parallel``: on PostgreSQL, how many chunks are written side by side, each on its own
    connection (the chunks of a list share no e-mail, see ``_chunk_assigner``).
    """
    claimed = claim_job(session, job_id, worker=worker, stale_after=stale_after)
    job = session.scalars(
        select(BatchJob).where(BatchJob.id == job_id).execution_options(**{ALL_TENANTS: True})
    ).one()
    if not claimed:
        return job
    garage = session.get(Garage, job.garage_id)
    run = _Run(
        job_id=job.id,
        garage_id=garage.id,
        garage_name=garage.name,
        stock_email=email_key(garage.email or ""),
        sending=job.send_to_customers,
        actor=Actor(
            job.uploaded_by_id,
            f"job:batch {job.id} ({job.uploaded_by})",
            roles=frozenset({GARAGE}),
            garage_id=job.garage_id,
        ),
        texts=_Texts.translated(),
        worker=worker,
    )
    # Chunks with rows still without an outcome: a resumed run skips what a killed
    # worker committed.
    pending = session.scalars(
        select(BatchRow.chunk)
        .where(BatchRow.batch_job_id == job.id, BatchRow.outcome.is_(None))
        .group_by(BatchRow.chunk)
        .order_by(BatchRow.chunk)
    ).all()
    # Chunks holding an e-mail that an earlier chunk holds too: one pass in e-mail order.
    # As a self-join (EXISTS an earlier row with the e-mail) SQLite probed its
    # (job, chunk) index, guessing a range narrower than an e-mail: every row read all
    # earlier chunks: 19 s for 20,000 rows, ~5 min for 60,000 (issue 13).
    first_chunk = func.min(BatchRow.chunk).over(partition_by=BatchRow.email_key)
    staged = (
        select(BatchRow.chunk, BatchRow.outcome, first_chunk.label("first_chunk"))
        .where(BatchRow.batch_job_id == job.id, BatchRow.valid)
        .subquery()
    )
    waiting = set(
        session.scalars(
            select(staged.c.chunk)
            .where(staged.c.chunk > staged.c.first_chunk, staged.c.outcome.is_(None))
            .group_by(staged.c.chunk)
        ).all()
    )
    session.commit()  # each chunk is a transaction of its own
    try:
        _run_chunks(session, run, pending, waiting, parallel)
    except ClaimLost:
        # Taken over by another worker: the job and its counts are that worker's now.
        session.refresh(job)
        return job
    outcomes = dict(
        session.execute(
            select(BatchRow.outcome, func.count())
            .where(BatchRow.batch_job_id == job.id)
            .group_by(BatchRow.outcome)
        ).all()
    )
    session.refresh(job)
    job.counts = _counts({PLAN_OF.get(k, k): n for k, n in outcomes.items()})
    job.done_rows = sum(outcomes.values())
    job.state = BatchState.done.value
    job.finished_at = utcnow()
    announce_job(session, job)
    session.commit()
    return job


def _run_chunks(session: Session, run: _Run, pending, waiting: set, parallel: int) -> None:
    if parallel > 1 and is_postgresql(session):
        engine = session.get_bind()

        def in_own_session(number: int) -> None:
            with Session(bind=engine) as own:
                run.chunk(own, number)

        _side_by_side(pending, waiting, in_own_session, parallel)
    else:
        for number in pending:
            started = time.monotonic()
            run.chunk(session, number)
            if not is_postgresql(session):
                # SQLite queues no one for its write lock: a waiting save polls, at most
                # every 100 ms, and the next chunk took the lock within a millisecond of
                # the commit. Saves of other garages waited through many chunks (up to
                # 2.7 s in a 60,000-row run, issue 13). A pause of one poll lets them in;
                # a shorter chunk pauses as long as it held the lock (so tests' chunks of
                # a few rows stay fast), leaving the lock free half the time.
                time.sleep(min(SQLITE_TURN_SECONDS, time.monotonic() - started))


def _side_by_side(numbers, waiting: set, run_one, parallel: int) -> None:
    """Run each chunk once on ``parallel`` threads, in order; a chunk in ``waiting`` starts
    only when every earlier chunk has committed. The first failure ends the run once the
    chunks in flight are done (each commits or rolls back whole)."""
    with ThreadPoolExecutor(parallel, thread_name_prefix="chunk") as pool:
        running: set[Future] = set()

        def settle(until) -> None:
            nonlocal running
            finished, running = wait(running, return_when=until)
            for future in finished:
                future.result()  # the chunk's error, if any

        for number in numbers:
            if number in waiting:
                settle(ALL_COMPLETED)
            while len(running) >= parallel:
                settle(FIRST_COMPLETED)
            running.add(pool.submit(run_one, number))
        settle(ALL_COMPLETED)


PLAN_OF = {"created": "create", "updated": "update"}
OUTCOME_OF = {plan: outcome for outcome, plan in PLAN_OF.items()}

# A chunk's plan, made again when the chunk runs (the database may have changed since the
# preview) and read by each of its writes. Temporary: private to the connection, never
# logged, emptied before the chunk commits.
CHUNK_PLAN = Table(
    "chunk_plan",
    MetaData(),
    Column("row_id", Integer, primary_key=True, autoincrement=False),
    Column("plate", String(16)),
    Column("email_key", String(320)),
    Column("plan", String(10)),
    Column("reason_code", String(200)),
    Column("passport_id", Integer),
    Column("stock", Boolean),  # the garage's own address: a stock car
    Column("new_customer", Boolean),  # this row's e-mail becomes a customer
    Column("owner_id", Integer),
    Column("mailed", Boolean),  # "send the passports": this row's new passport is mailed
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


@dataclass(frozen=True)
class _Run:
    """What every chunk of a job needs, as plain values (chunks may run in threads)."""

    job_id: int
    garage_id: int
    garage_name: str
    stock_email: str
    sending: bool  # "send the passports" (R-BJ-3)
    actor: Actor
    texts: _Texts
    worker: str  # whose claim the chunks are written under

    def chunk(self, session: Session, number: int) -> None:
        """Write one chunk and its progress in one transaction, under the run's claim."""
        if not is_postgresql(session):
            # SQLite refuses to turn a reading transaction into a writing one while
            # another writer waits: take the write lock before the first read.
            self._progress(session, 0)
        done = _Chunk(session, self, number, utcnow()).run()
        self._progress(session, done)
        session.commit()

    def _progress(self, session: Session, rows: int) -> None:
        # The claim is checked in the chunk's own transaction: a worker that stalled past
        # the stale time and was taken over rolls its chunk back instead of writing it
        # beside the job's new owner.
        result = session.execute(
            update(BatchJob)
            .where(
                BatchJob.id == self.job_id,
                BatchJob.claimed_by == self.worker[:200],
                BatchJob.state == BatchState.running.value,
            )
            .values(done_rows=func.coalesce(BatchJob.done_rows, 0) + rows, heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.rollback()
            raise ClaimLost(self.job_id)


class ClaimLost(Exception):
    """The run's claim is gone (another worker took the job over): stop writing."""


@dataclass
class _Chunk:
    """One chunk's writes: each an INSERT … SELECT or UPDATE … FROM over the chunk's plan
    and staged rows, each with its audit rows written by the database from the same rows.
    No query per row, and none of the rows pass through Python."""

    session: Session
    job: _Run
    number: int
    now: dt.datetime

    def run(self) -> int:
        """Plan, write, record the outcomes; returns how many rows got one."""
        session = self.session
        session.execute(CreateTable(CHUNK_PLAN, if_not_exists=True))
        planned = (
            _planned(
                self.job.job_id,
                self.job.garage_id,
                BatchRow.chunk == self.number,
                BatchRow.outcome.is_(None),
            )
            .add_columns(
                BatchRow.email_key, (BatchRow.email_key == self.job.stock_email).label("stock")
            )
            .subquery()
        )
        # "Send the passports": each new passport that is not a stock car is mailed.
        mailed = and_(planned.c.plan == "create", ~planned.c.stock, literal(self.job.sending))
        session.execute(
            insert(CHUNK_PLAN)
            .from_select(
                [*(column.name for column in planned.c), "mailed"],
                select(*planned.c, mailed),
            )
            .execution_options(**{ALL_TENANTS: True})
        )
        if is_postgresql(session):
            session.execute(text("ANALYZE chunk_plan"))  # or every join below is a guess
        self.find_customers()
        self.update_customers()
        self.create_customers()
        self.update_passports()
        self.create_passports()
        if self.job.sending:
            self.queue_activation_mails()
        plan = CHUNK_PLAN.c
        done = session.execute(
            update(BatchRow)
            .where(BatchRow.id == plan.row_id)
            .values(
                plan=plan.plan,
                reason_code=plan.reason_code,
                outcome=case(OUTCOME_OF, value=plan.plan, else_=plan.plan),
                passport_id=plan.passport_id,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        session.execute(delete(CHUNK_PLAN))
        return done

    def _rows(self, *plans: str):
        """The chunk's staged rows with these plans (join condition and filter)."""
        return and_(BatchRow.id == CHUNK_PLAN.c.row_id, CHUNK_PLAN.c.plan.in_(plans))

    def find_customers(self, *, still_missing: bool = False) -> None:
        """Each row's customer: the garage's customer with its e-mail (the oldest, should
        there be two). A correlated lookup, so always a probe of the e-mail index,
        whatever the planner thinks of the garage's size (its statistics lag behind a
        list that multiplies it)."""
        plan = CHUNK_PLAN.c
        rows = [plan.plan.in_(("create", "update"))]
        if still_missing:
            rows.append(plan.owner_id.is_(None))
        self.session.execute(
            update(CHUNK_PLAN)
            .where(*rows)
            .values(
                owner_id=select(func.min(Customer.id))
                .where(
                    Customer.garage_id == self.job.garage_id,
                    func.lower(Customer.email) == _affinity_free(self.session, plan.email_key),
                )
                .scalar_subquery()
            )
            .execution_options(**{ALL_TENANTS: True})
        )

    def _any(self, *conditions) -> bool:
        """Whether a row of the chunk's plan meets ``conditions``: a list of new cars skips
        the updates without joining its thousands of rows for nothing."""
        found = select(CHUNK_PLAN.c.row_id).where(*conditions).limit(1)
        return self.session.scalar(found) is not None

    def update_customers(self) -> None:
        """The row that leads an e-mail fills in its existing customer's contact data."""
        if not self._any(CHUNK_PLAN.c.owner_id.is_not(None)):
            return
        target = and_(
            self._rows("create", "update"),
            BatchRow.leads,
            Customer.id == CHUNK_PLAN.c.owner_id,
            _contact_differs(),
        )
        changes = {
            name: case(
                (
                    _filled_and_different(getattr(BatchRow, name), getattr(Customer, name)),
                    json_pair(self.session, getattr(Customer, name), getattr(BatchRow, name)),
                ),
                else_=null(),
            )
            for name in CONTACT_FIELDS
        }
        self._audit(
            "update",
            "customer",
            select(
                Customer.id, Customer.garage_id, null(), json_changes(self.session, changes)
            ).where(target),
        )
        self.session.execute(
            update(Customer)
            .where(target)
            .values(
                {
                    name: func.coalesce(getattr(BatchRow, name), getattr(Customer, name))
                    for name in CONTACT_FIELDS
                }
            )
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )

    def create_customers(self) -> None:
        """A customer per new e-mail, from the chunk's first row with that e-mail (rows
        are staged in the file's order), with its audit rows."""
        plan = CHUNK_PLAN.c
        # Ranked by a window function: a correlated min() per row was quadratic here.
        ranked = (
            select(
                plan.row_id,
                func.row_number()
                .over(partition_by=plan.email_key, order_by=plan.row_id)
                .label("rank"),
            )
            .where(plan.plan.in_(("create", "update")), plan.owner_id.is_(None))
            .subquery()
        )
        self.session.execute(
            update(CHUNK_PLAN)
            .where(plan.row_id.in_(select(ranked.c.row_id).where(ranked.c.rank == 1)))
            .values(new_customer=True)
        )
        source = select(
            literal(self.job.garage_id),
            BatchRow.email,
            *(getattr(BatchRow, name) for name in CONTACT_FIELDS),
            literal(self.now, UTCDateTime),
        ).where(BatchRow.id == plan.row_id, plan.new_customer)
        self.session.execute(
            insert(Customer.__table__).from_select(
                ["garage_id", "email", *CONTACT_FIELDS, "created_at"], source
            )
        )
        self.find_customers(still_missing=True)
        created = and_(Customer.id == plan.owner_id, plan.new_customer)
        self._audit_inserts(Customer, "customer", created, ("email", *CONTACT_FIELDS))

    def update_passports(self) -> None:
        """New owner (by e-mail) and filled-in vehicle fields of the `update` rows."""
        owner = Customer
        plan = CHUNK_PLAN.c
        if not self._any(plan.plan == "update"):
            return
        target = and_(
            self._rows("update"),
            Passport.id == plan.passport_id,
            owner.id == Passport.owner_id,
            _passport_differs(Passport, owner),
        )
        new_owner = func.lower(owner.email) != BatchRow.email_key
        changes = {
            "owner_id": case(
                (new_owner, json_pair(self.session, Passport.owner_id, plan.owner_id)),
                else_=null(),
            ),
            **{
                name: case(
                    (
                        _filled_and_different(getattr(BatchRow, name), getattr(Passport, name)),
                        json_pair(self.session, getattr(Passport, name), getattr(BatchRow, name)),
                    ),
                    else_=null(),
                )
                for name in VEHICLE_FIELDS
            },
            "apk_expiry": case(
                (
                    and_(
                        BatchRow.apk_expiry.is_not(None),
                        Passport.apk_expiry.is_distinct_from(BatchRow.apk_expiry),
                    ),
                    json_pair(self.session, Passport.apk_expiry, BatchRow.apk_expiry),
                ),
                else_=null(),
            ),
        }
        self._audit(
            "update",
            "passport",
            select(
                Passport.id, Passport.garage_id, Passport.id, json_changes(self.session, changes)
            ).where(target),
        )
        self.session.execute(
            update(Passport)
            .where(target)
            .values(
                owner_id=case((new_owner, plan.owner_id), else_=Passport.owner_id),
                **{
                    name: func.coalesce(getattr(BatchRow, name), getattr(Passport, name))
                    for name in (*VEHICLE_FIELDS, "apk_expiry")
                },
            )
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )

    def create_passports(self) -> None:
        """The `create` rows' passports; the garage's own address makes a stock car.
        With "send the passports" they are `sent`: their mails go in this transaction."""
        plan = CHUNK_PLAN.c
        now = literal(self.now, UTCDateTime)
        sending = self.job.sending
        unsent = PassportState.sent.value if sending else PassportState.created.value
        source = select(
            literal(self.job.garage_id),
            BatchRow.plate,
            plan.owner_id,
            *(getattr(BatchRow, name) for name in (*VEHICLE_FIELDS, "apk_expiry")),
            plan.stock,
            case((plan.stock, PassportState.activated.value), else_=unsent),
            case((plan.stock, now), else_=null()),
            case((plan.stock, null()), else_=now) if sending else null(),
            literal("list"),
            now,
        ).where(self._rows("create"))
        columns = [
            "garage_id",
            "plate",
            "owner_id",
            *VEHICLE_FIELDS,
            "apk_expiry",
            "stock_car",
            "state",
            "activated_at",
            "sent_at",
            "created_via",
            "created_at",
        ]
        self.session.execute(insert(Passport.__table__).from_select(columns, source))
        live = select(Passport.id).where(
            Passport.plate == plan.plate, Passport.state != PassportState.archived.value
        )
        self.session.execute(
            update(CHUNK_PLAN)
            .where(plan.plan == "create")
            .values(passport_id=live.scalar_subquery())
            .execution_options(**{ALL_TENANTS: True})
        )
        created = and_(Passport.id == plan.passport_id, plan.plan == "create")
        self._audit_inserts(Passport, "passport", created, columns[1:])

    def queue_activation_mails(self) -> None:
        """R-BJ-3: "send the passports" — an activation mail per new passport, queued by
        the database; the worker makes its link when it sends it (services/mails)."""
        plan = CHUNK_PLAN.c
        session = self.session
        now = literal(self.now, UTCDateTime)
        fields = {
            "plate": func.coalesce(BatchRow.shown_plate, BatchRow.plate),
            "garage": literal(self.job.garage_name, String),
        }
        make_object = func.json_build_object if is_postgresql(session) else func.json_object
        session.execute(
            insert(OutboxMessage.__table__)
            .from_select(
                [
                    "garage_id",
                    "recipient",
                    "kind",
                    "state",
                    "attempts",
                    "next_attempt_at",
                    "created_at",
                    "subject",
                    "params",
                ],
                select(
                    literal(self.job.garage_id),
                    Customer.email,
                    literal("activation"),
                    literal("pending"),
                    literal(0),
                    now,
                    now,
                    sql_format(self.job.texts.mail_subject, **fields),
                    make_object(literal("passport_id"), plan.passport_id),
                ).where(
                    BatchRow.id == plan.row_id,
                    Customer.id == plan.owner_id,
                    plan.mailed.is_(True),
                ),
            )
            .execution_options(**{ALL_TENANTS: True})
        )

    def _audit_inserts(self, model, table: str, records, fields) -> None:
        """Audit rows for the new ``model`` rows that ``records`` selects."""
        changes = {
            name: case(
                (
                    getattr(model, name).is_not(None),
                    json_pair(self.session, null(), getattr(model, name)),
                ),
                else_=null(),
            )
            for name in fields
        }
        passport_id = model.id if model is Passport else null()
        self._audit(
            "insert",
            table,
            select(
                model.id, model.garage_id, passport_id, json_changes(self.session, changes)
            ).where(records),
        )

    def _audit(self, action: str, table: str, records) -> None:
        """Audit rows (R-SEC-2) for (record id, garage id, passport id, changes) rows."""
        record_select(self.session, self.job.actor, action, table, records, at=self.now)


# --- what the screens and the API show (R-BJ-5) --------------------------------------------

OUTCOMES = ("created", "updated", "unchanged", "refused")


def _rows_of(job: BatchJob, outcome: str | None) -> list:
    """Which rows: the job's, those of one ``outcome`` when given (the plan, before the run)."""
    conditions = [BatchRow.batch_job_id == job.id]
    if outcome:
        plan = {"created": "create", "updated": "update"}.get(outcome, outcome)
        conditions.append(
            (BatchRow.outcome == outcome) | (BatchRow.outcome.is_(None) & (BatchRow.plan == plan))
        )
    return conditions


def job_rows_query(session: Session, job: BatchJob, *, outcome: str | None = None) -> Query:
    """The job's rows as its page lists them, all pages (the rows' export, issue 15)."""
    return session.query(BatchRow).filter(*_rows_of(job, outcome)).order_by(BatchRow.row_number)


def job_rows(
    session: Session, job: BatchJob, *, outcome: str | None = None, limit: int | None = None
) -> list[BatchRow]:
    """The job's rows in sheet order; ``outcome`` filters (the plan, before the run)."""
    query = select(BatchRow).where(*_rows_of(job, outcome)).order_by(BatchRow.row_number)
    if limit:
        query = query.limit(limit)
    return session.scalars(query).all()


# A page of rows the screen shows at once: a 100,000-row list is 500 pages, each read
# from the (job, row number) index.
ROWS_PER_PAGE = 200


@dataclass
class RowsPage:
    rows: list[BatchRow]
    number: int  # 1 is the first page
    pages: int
    total: int  # rows of the job (of the outcome asked for) on all pages
    per_page: int = ROWS_PER_PAGE

    @property
    def first_row(self) -> int:
        """The position (1-based) of this page's first row among all ``total``."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0


def job_rows_page(
    session: Session,
    job: BatchJob,
    *,
    outcome: str | None = None,
    page: int = 1,
    per_page: int = ROWS_PER_PAGE,
) -> RowsPage:
    """One page of the job's rows in sheet order (R-BJ-5): every row of a list of any length
    is on some page. A page past the last shows the last one."""
    conditions = _rows_of(job, outcome)
    total = session.scalar(select(func.count()).select_from(BatchRow).where(*conditions))
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    rows = session.scalars(
        select(BatchRow)
        .where(*conditions)
        .order_by(BatchRow.row_number)
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).all()
    return RowsPage(rows=list(rows), number=number, pages=pages, total=total, per_page=per_page)


def row_result(row: BatchRow) -> dict:
    return {
        "id": row.id,
        "row_number": row.row_number,
        "plate": display_plate(row.plate),
        "email": row.email,
        "outcome": row.outcome or row.plan,
        "reason": row.reason_text(),
        "reason_code": row.reason_code,
    }


# The template's columns, in its order, plus the reason: fix, then upload again.
REFUSED_HEADER = [*TEMPLATE_HEADER, "reden"]
_VALUE_KEYS = list(HEADERS)


def refused_rows_xlsx(session: Session, job: BatchJob) -> bytes:
    """The refused rows with a reason column, ready to fix and upload again (R-BJ-5)."""
    from admin_app.services.customer_lists import xlsx_bytes

    def lines():
        yield REFUSED_HEADER
        for row in job_rows(session, job, outcome="refused"):
            # A row refused by its own check keeps its cells as typed; a checked row that the
            # database refused has them in its columns.
            values = dict(row.values or {name: getattr(row, name) for name in ROW_FIELDS})
            values.setdefault("email", row.email)
            apk = values.get("apk_expiry")
            if isinstance(apk, str):
                try:
                    apk = dt.date.fromisoformat(apk)
                except ValueError:
                    pass
            if isinstance(apk, dt.date):
                values["apk_expiry"] = apk.strftime("%d-%m-%Y")
            values["plate"] = display_plate(values.get("plate") or row.plate)
            yield [values.get(key, "") for key in _VALUE_KEYS] + [row.reason_text() or ""]

    return xlsx_bytes(lines(), sheet_title="Geweigerd")
