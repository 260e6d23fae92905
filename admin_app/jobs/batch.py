"""The customer-list batch job's transactions and concurrency (issue 20: services flush, the
job commits). The importer's steps are services (admin_app/services/batch_jobs/); this
module decides where each transaction ends: one per chunk, so a killed worker resumes after
the last committed chunk, and on PostgreSQL chunks written side by side on threads, each
on its own connection. The rq entries take an id and open the app's session."""

from __future__ import annotations

import logging
import os
import socket
import time
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta
from itertools import islice

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from admin_app.db import unit_of_work
from admin_app.extensions import db
from admin_app.models import BatchJob
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.services import batch_jobs, search_copy
from admin_app.services.bulk import is_postgresql

log = logging.getLogger(__name__)

# SQLite's busy handler sleeps up to 100 ms between its tries for the write lock.
SQLITE_TURN_SECONDS = 0.1
# A background preview reads, checks and stages its rows in committed pieces of this many,
# so the worker never holds the whole list (a 100,000-row CSV held at once peaked at 396 MB,
# issue 20) and, on SQLite, never holds the write lock long (one INSERT of 60,000 held it
# 0.9 s at a load of 5, issue 13).
STAGED_PER_COMMIT = 10_000


def process_batch(job_id: int) -> None:
    """Safe to run twice: rows with an outcome are skipped, a finished job is left alone.
    Once done, its new customers and cars are copied into the counter's search."""
    try:
        job = process_job(
            db.session,
            job_id,
            parallel=current_app.config["BATCH_PARALLEL"],
            worker=_worker_name(),
            stale_after=timedelta(seconds=current_app.config["BATCH_STALE_SECONDS"]),
        )
    except Exception as exc:
        db.session.rollback()
        log.exception("batch job %s failed", job_id)
        db.session.execute(
            update(BatchJob)
            .where(BatchJob.id == job_id)
            .values(state=BatchState.failed.value, error=str(exc)[:500])
        )
        _announce_failure(job_id)
        db.session.commit()
        raise  # its committed chunks are copied by the clock (copy_lost_runs)
    make_searchable(db.session, job)


def make_searchable(session: Session, job: BatchJob) -> None:
    """A done run's new customers and cars copied into the counter's search, in a
    transaction after the run's (issue 20: their trigram upkeep was a sixth of a list's
    run). Support finds them seconds after "done"; the clock does it for a run whose
    worker was lost first (``copy_lost_runs``)."""
    if job.state == BatchState.done.value and job.searchable_at is None:
        with unit_of_work(session):
            search_copy.copy_after_run(session, job, utcnow())


def copy_lost_runs() -> None:
    """The clock's part: ended runs whose worker did not copy them (it died first, or the
    run failed or was cancelled after some chunks), one transaction each."""
    for job in search_copy.runs_to_copy(db.session, utcnow()):
        with unit_of_work(db.session):
            search_copy.copy_after_run(db.session, job, utcnow())


def process_job(
    session: Session,
    job_id: int,
    *,
    parallel: int = 1,
    worker: str = "worker",
    stale_after: timedelta = batch_jobs.STALE_HEARTBEAT,
) -> BatchJob:
    """Claim the job as ``worker`` and run it to the end, one committed chunk at a time;
    safe to repeat. A job another live worker claimed, or one cancelled meanwhile, is left.

    ``parallel``: on PostgreSQL, how many chunks are written side by side, each on its own
    connection (the chunks of a list share no e-mail, see ``batch_jobs.chunk_assigner``).
    """
    claimed = batch_jobs.claim_job(session, job_id, worker=worker, stale_after=stale_after)
    session.commit()  # the claim, and `running`, show at once
    job = batch_jobs.job_for_worker(session, job_id)
    if not claimed:
        return job
    run, order = batch_jobs.start_run(session, job, worker=worker)
    session.commit()  # each chunk is a transaction of its own
    try:
        _write_chunks(session, run, order, parallel)
    except batch_jobs.ClaimLost:
        # Taken over by another worker: the job and its counts are that worker's now.
        session.refresh(job)
        return job
    batch_jobs.finish_run(session, job)
    session.commit()
    return job


def _write_chunk(session: Session, run: batch_jobs.Run, number: int) -> None:
    """One chunk, one transaction: committed whole, or rolled back whole (a lost claim,
    an error) before the exception goes on."""
    try:
        run.write_chunk(session, number)
    except BaseException:
        session.rollback()
        raise
    session.commit()


def _write_chunks(
    session: Session, run: batch_jobs.Run, order: batch_jobs.ChunkOrder, parallel: int
) -> None:
    if parallel > 1 and is_postgresql(session):
        engine = session.get_bind()

        def in_own_session(number: int) -> None:
            with Session(bind=engine) as own:
                _write_chunk(own, run, number)

        _side_by_side(order, in_own_session, parallel)
        return
    for number in order.pending:
        started = time.monotonic()
        _write_chunk(session, run, number)
        if not is_postgresql(session):
            # SQLite queues no one for its write lock: a waiting save polls, at most
            # every 100 ms, and the next chunk took the lock within a millisecond of
            # the commit. Saves of other garages waited through many chunks (up to
            # 2.7 s in a 60,000-row run, issue 13). A pause of one poll lets them in;
            # a shorter chunk pauses as long as it held the lock (so tests' chunks of
            # a few rows stay fast), leaving the lock free half the time.
            time.sleep(min(SQLITE_TURN_SECONDS, time.monotonic() - started))


def _side_by_side(order: batch_jobs.ChunkOrder, write_one, parallel: int) -> None:
    """Write each pending chunk once on ``parallel`` threads, in order; a waiting chunk
    starts only when every earlier chunk has committed. The first failure ends the run once
    the chunks in flight are done (each commits or rolls back whole)."""
    with ThreadPoolExecutor(parallel, thread_name_prefix="chunk") as pool:
        running: set[Future] = set()

        def settle(until) -> None:
            nonlocal running
            finished, running = wait(running, return_when=until)
            for future in finished:
                future.result()  # the chunk's error, if any

        for number in order.pending:
            if number in order.waiting:
                settle(ALL_COMPLETED)
            while len(running) >= parallel:
                settle(FIRST_COMPLETED)
            running.add(pool.submit(write_one, number))
        settle(ALL_COMPLETED)


def _worker_name() -> str:
    """Who claims the job: the rq worker's name (host and pid), or this process's."""
    from rq import get_current_job

    current = get_current_job()
    worker = getattr(current, "worker_name", None) if current else None
    return worker or f"{socket.gethostname()}:{os.getpid()}"


def _announce_failure(job_id: int) -> None:
    """batch_job.failed to the garage's webhooks, in the transaction that marks it."""
    job = db.session.get(BatchJob, job_id)
    if job is not None:
        db.session.refresh(job)
        batch_jobs.announce_job(db.session, job)


def enqueue_due_jobs() -> list[int]:
    """The clock's part: queue what is due (once per stale time, whichever worker ticks);
    the worker that starts it claims it (services/batch_jobs.claim_job). Queued when the
    claim to queue them commits."""
    with unit_of_work(db.session):
        return batch_jobs.queue_due_jobs(db.session)


def preview_batch(job_id: int) -> None:
    """A large list's preview, checked by a worker so the upload never times out."""
    try:
        preview_in_background(db.session, job_id)
    except Exception as exc:
        db.session.rollback()
        log.exception("preview of batch job %s failed", job_id)
        # A failed list is never previewed again (the garage uploads it anew), and its
        # file names every customer on it: kept, no erase or retention would reach it.
        db.session.execute(
            update(BatchJob)
            .where(BatchJob.id == job_id)
            .values(state=BatchState.failed.value, error=str(exc)[:500], upload=None)
        )
        _announce_failure(job_id)
        db.session.commit()
        raise


def preview_in_background(session: Session, job_id: int, chunk_size: int | None = None) -> BatchJob:
    """The worker's half of a large upload: check every row, committing its progress as it
    goes, stage the rows in committed pieces, then plan them and commit."""
    job = batch_jobs.job_for_worker(session, job_id)
    if job.state != BatchState.previewing.value:
        return job

    def progress(done: int) -> None:
        batch_jobs.record_preview_progress(session, job, done)
        session.commit()

    batch_jobs.forget_staged_rows(session, job)  # committed with the first progress
    rows = batch_jobs.checked_upload(job, progress=progress)
    staged = batch_jobs.staged_rows(session, job, rows, chunk_size)
    # The rows are checked as the pieces are taken, so the progress (committed between
    # pieces) never commits half a piece; a rerun deletes an interrupted attempt's pieces
    # first, as above.
    total = 0
    while piece := list(islice(staged, STAGED_PER_COMMIT)):
        total += batch_jobs.stage_rows(session, piece)
        session.commit()
        if not is_postgresql(session):
            time.sleep(SQLITE_TURN_SECONDS)
    batch_jobs.plan_staged(session, job, total)
    batch_jobs.finish_preview(session, job)
    session.commit()
    return job
