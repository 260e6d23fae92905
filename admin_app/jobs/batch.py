"""rq entry for a customer-list batch job: takes an id, opens a session, calls the service."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from admin_app.extensions import db
from admin_app.models import BatchJob
from admin_app.models.batch_jobs import BatchState
from admin_app.services import batch_jobs

log = logging.getLogger(__name__)


def process_batch(job_id: int) -> None:
    """Safe to run twice: rows with an outcome are skipped, a finished job is left alone."""
    try:
        batch_jobs.process_job(
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
        raise


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
    the worker that starts it claims it (services/batch_jobs.claim_job)."""
    return batch_jobs.queue_due_jobs(db.session)


def preview_batch(job_id: int) -> None:
    """A large list's preview, checked by a worker so the upload never times out."""
    try:
        batch_jobs.preview_in_background(db.session, job_id)
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
