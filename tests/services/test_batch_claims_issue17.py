"""Issue 17, claims that never run twice (R-BJ-4, R-BJ-6): the clock only queues a due job;
the worker that starts it claims it with a conditional UPDATE. Until then it is `scheduled`
and can be cancelled; a copy queued again after the stale time finds it claimed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.jobs.batch import process_job
from admin_app.models import BatchJob, BatchRow
from admin_app.services import batch_jobs
from tests.services.test_batch_jobs import upload

STALE = dt.timedelta(seconds=600)


def confirmed_job(s, acting_as):
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "klantenlijst-voorbeeld.csv")
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    return job.id


def test_issue17_a_queued_job_stays_scheduled_and_can_be_cancelled(acting_as, world):
    """R-BJ-4: queued by the clock, a job is `scheduled` until a worker claims it; cancelled
    while it waits, the worker's copy does nothing."""
    s = world.session
    job_id = confirmed_job(s, acting_as)
    night = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert batch_jobs.claim_due_jobs(s, night, stale_after=STALE) == [job_id]
    job = s.get(BatchJob, job_id)
    s.refresh(job)
    assert job.state == "scheduled" and job.claimed_by is None
    with acting_as("garage-devries") as acting, unit_of_work(s):
        batch_jobs.cancel_job(s, job_id, actor=acting.actor)
    done = process_job(s, job_id, worker="w1")
    assert done.state == "cancelled" and done.claimed_by is None
    ran = select(func.count()).where(BatchRow.batch_job_id == job_id, BatchRow.outcome.is_not(None))
    assert s.scalar(ran) == 0


def test_issue17_a_job_waiting_past_the_stale_time_is_queued_again_but_runs_once(acting_as, world):
    """R-BJ-6: a job waiting in the queue longer than the stale time is queued again (the
    first copy might be lost with Redis); the two copies run it once, for the first worker."""
    s = world.session
    job_id = confirmed_job(s, acting_as)
    night = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert batch_jobs.claim_due_jobs(s, night, stale_after=STALE) == [job_id]
    assert batch_jobs.claim_due_jobs(s, night + STALE / 2, stale_after=STALE) == []
    # Still waiting behind other lists past the stale time: queued again.
    assert batch_jobs.claim_due_jobs(s, night + 2 * STALE, stale_after=STALE) == [job_id]
    assert batch_jobs.claim_job(s, job_id, worker="w1", stale_after=STALE)
    assert not batch_jobs.claim_job(s, job_id, worker="w2", stale_after=STALE)
    job = s.get(BatchJob, job_id)
    s.refresh(job)
    assert job.state == "running" and job.claimed_by == "w1" and job.claimed_at


def test_issue17_a_dead_workers_job_is_claimed_by_another(acting_as, world):
    """R-BJ-6: a running job whose heartbeat stopped is queued again and taken over."""
    s = world.session
    job_id = confirmed_job(s, acting_as)
    night = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    batch_jobs.claim_due_jobs(s, night, stale_after=STALE)
    assert batch_jobs.claim_job(s, job_id, worker="w1", now=night, stale_after=STALE)
    later = night + 2 * STALE
    assert batch_jobs.claim_due_jobs(s, later, stale_after=STALE) == [job_id]
    assert batch_jobs.claim_job(s, job_id, worker="w2", now=later, stale_after=STALE)
    job = s.get(BatchJob, job_id)
    s.refresh(job)
    assert job.claimed_by == "w2"


def test_issue17_attack_a_worker_whose_job_was_taken_over_writes_no_more_chunks(acting_as, world):
    """R-BJ-6: a worker that stalls past the stale time (a long pause, a lost network) is
    taken for dead and its job claimed by another; when it wakes it must not go on
    writing chunks beside the new owner: each chunk commits only under its own claim."""
    from sqlalchemy import event, update

    s = world.session
    job_id = confirmed_job(s, acting_as)
    night = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    batch_jobs.claim_due_jobs(s, night, stale_after=STALE)
    commits = []

    def taken_over_after_setup(session):
        # w1 has claimed the job and read its chunks (two commits); then w2 takes it.
        commits.append(1)
        if len(commits) == 2:
            with session.get_bind().engine.begin() as other:
                other.execute(update(BatchJob).where(BatchJob.id == job_id).values(claimed_by="w2"))

    event.listen(s, "after_commit", taken_over_after_setup)
    try:
        job = process_job(s, job_id, worker="w1", stale_after=STALE)
    finally:
        event.remove(s, "after_commit", taken_over_after_setup)
    s.refresh(job)
    assert job.state == "running" and job.claimed_by == "w2"
    ran = select(func.count()).where(BatchRow.batch_job_id == job_id, BatchRow.outcome.is_not(None))
    assert s.scalar(ran) == 0
