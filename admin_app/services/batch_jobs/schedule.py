"""When a previewed list runs (R-BJ-4): confirmed for the next night at 01:00
Europe/Amsterdam, cancelled until it starts, or run at once by Admin and Support."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    update,
)
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.clock import AMSTERDAM
from admin_app.domain.errors import Conflict, Forbidden, NotFound
from admin_app.models import (
    BatchJob,
)
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.roles import ADMIN, GARAGE, SUPPORT
from admin_app.scope import scoped_get
from admin_app.services.audit import Actor

NIGHTLY_HOUR = 1


def next_nightly_run(now: dt.datetime) -> dt.datetime:
    """The next 01:00 Europe/Amsterdam after ``now``, winter and summer time alike."""
    local = now.astimezone(AMSTERDAM)
    candidate = dt.datetime.combine(local.date(), dt.time(NIGHTLY_HOUR), tzinfo=AMSTERDAM)
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time(NIGHTLY_HOUR), tzinfo=AMSTERDAM
        )
    return candidate.astimezone(dt.UTC)


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
    if changed_rows(result) != 1:
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
