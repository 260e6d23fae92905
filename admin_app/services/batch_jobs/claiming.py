"""Claiming due jobs (several workers, restarts): the clock queues what is due, the worker
that starts a job claims it, a job whose worker died is taken over."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.models import (
    BatchJob,
)
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.scope import ALL_TENANTS

STALE_HEARTBEAT = dt.timedelta(minutes=10)


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
        if changed_rows(result) == 1:
            queued.append(job_id)
    return queued


def queue_due_jobs(session: Session, *, stale_after: dt.timedelta | None = None) -> list[int]:
    """The due jobs (``claim_due_jobs``) on the rq queue once the caller commits, each for a
    worker's ``process_batch``: by the clock's tick, and by "Run now" at once. Queued by
    name: services import no jobs (issue 20)."""
    from flask import current_app

    from admin_app.queueing import enqueue_after_commit

    if stale_after is None:
        stale_after = dt.timedelta(seconds=current_app.config["BATCH_STALE_SECONDS"])
    claimed = claim_due_jobs(session, utcnow(), stale_after=stale_after)
    for job_id in claimed:
        # A unique rq id: a job queued again (stale, or taken over after a crash) is a new
        # rq job; the worker's claim decides which copy runs.
        enqueue_after_commit(
            session,
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
    or live one cannot. The caller commits at once, so the claim (and `running`) shows.

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
    return changed_rows(result) == 1
