"""The run (R-BJ-6): a confirmed job, claimed by one worker, written a chunk at a time.

The steps of a run, each in the caller's transaction: the job (admin_app/jobs/batch.py)
commits between them, one chunk per transaction, and runs chunks side by side."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.models import (
    BatchJob,
    BatchRow,
    Garage,
)
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.roles import GARAGE
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import Actor
from admin_app.services.batch_jobs.chunk import ChunkWriter
from admin_app.services.batch_jobs.planning import PLAN_OF, counts_by_plan
from admin_app.services.batch_jobs.preview import announce_job
from admin_app.services.bulk import (
    is_postgresql,
)
from admin_app.services.emails import email_key
from admin_app.services.passports import activation_subject


@dataclass(frozen=True)
class RunTexts:
    """A run's words, translated once: chunks run in threads, outside any app context.
    (Refusal reasons are codes: they are put into words when read.)"""

    mail_subject: str

    @classmethod
    def translated(cls) -> RunTexts:
        with force_locale("nl"):  # the mails are Dutch, whoever runs the job
            # The screens' one activation subject, its placeholders kept: the database
            # fills them in per row (queue_activation_mails, sql_format).
            subject = activation_subject(plate="%(plate)s", garage="%(garage)s")
        return cls(mail_subject=subject)


def job_for_worker(session: Session, job_id: int) -> BatchJob:
    """The job a worker was given, whichever garage's: the worker acts for none of them."""
    return session.scalars(
        select(BatchJob).where(BatchJob.id == job_id).execution_options(**{ALL_TENANTS: True})
    ).one()


@dataclass(frozen=True)
class ChunkOrder:
    """Which chunks of a claimed job are still to be written, and in what order."""

    pending: list[int]  # chunks with rows still without an outcome, in their order
    # Of those, the chunks holding an e-mail that an earlier chunk holds too: each starts
    # only once every earlier chunk has committed (see ``chunk_assigner``).
    waiting: frozenset[int]


def start_run(session: Session, job: BatchJob, *, worker: str) -> tuple[Run, ChunkOrder]:
    """What the chunks of the claimed ``job`` need, and which of them are left: a resumed
    run skips what a killed worker committed. Reads only."""
    garage = session.get_one(Garage, job.garage_id)
    run = Run(
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
        texts=RunTexts.translated(),
        worker=worker,
    )
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
    waiting = session.scalars(
        select(staged.c.chunk)
        .where(staged.c.chunk > staged.c.first_chunk, staged.c.outcome.is_(None))
        .group_by(staged.c.chunk)
    ).all()
    return run, ChunkOrder(pending=list(pending), waiting=frozenset(waiting))


def finish_run(session: Session, job: BatchJob) -> None:
    """Every chunk is written: the job is done, with its counts, and says so (webhook)."""
    outcomes = dict(
        session.execute(
            select(BatchRow.outcome, func.count())
            .where(BatchRow.batch_job_id == job.id)
            .group_by(BatchRow.outcome)
        )
        .tuples()
        .all()
    )
    session.refresh(job)
    job.counts = counts_by_plan(
        {PLAN_OF.get(k, k): n for k, n in outcomes.items() if k is not None}
    )
    job.done_rows = sum(outcomes.values())
    job.state = BatchState.done.value
    job.finished_at = utcnow()
    announce_job(session, job)


@dataclass(frozen=True)
class Run:
    """What every chunk of a job needs, as plain values (chunks may run in threads)."""

    job_id: int
    garage_id: int
    garage_name: str
    stock_email: str
    sending: bool  # "send the passports" (R-BJ-3)
    actor: Actor
    texts: RunTexts
    worker: str  # whose claim the chunks are written under

    def write_chunk(self, session: Session, number: int) -> None:
        """Write one chunk and its progress under the run's claim, in the caller's
        transaction: the job commits it as one (admin_app/jobs/batch.py)."""
        if not is_postgresql(session):
            # SQLite refuses to turn a reading transaction into a writing one while
            # another writer waits: take the write lock before the first read.
            self._progress(session, 0)
        done = ChunkWriter(session, self, number, utcnow()).run()
        self._progress(session, done)

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
        if changed_rows(result) != 1:
            raise ClaimLost(self.job_id)  # the job rolls the chunk back


class ClaimLost(Exception):
    """The run's claim is gone (another worker took the job over): stop writing, and roll
    back the chunk in hand."""
