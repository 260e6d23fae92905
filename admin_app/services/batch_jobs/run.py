"""The run (R-BJ-6): a confirmed job, claimed by one worker, written a chunk at a time."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

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
from admin_app.services.batch_jobs.claiming import STALE_HEARTBEAT, claim_job
from admin_app.services.batch_jobs.planning import PLAN_OF, counts_by_plan
from admin_app.services.batch_jobs.preview import SQLITE_TURN_SECONDS, announce_job
from admin_app.services.bulk import (
    is_postgresql,
)
from admin_app.services.emails import email_key


@dataclass(frozen=True)
class RunTexts:
    """A run's words, translated once: chunks run in threads, outside any app context.
    (Refusal reasons are codes: they are put into words when read.)"""

    mail_subject: str

    @classmethod
    def translated(cls) -> RunTexts:
        with force_locale("nl"):  # the mails are Dutch, whoever runs the job
            subject = str(_l("Your AutoPassport for %(plate)s from %(garage)s"))
        return cls(mail_subject=subject)


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
    connection (the chunks of a list share no e-mail, see ``chunk_assigner``).
    """
    claimed = claim_job(session, job_id, worker=worker, stale_after=stale_after)
    job = session.scalars(
        select(BatchJob).where(BatchJob.id == job_id).execution_options(**{ALL_TENANTS: True})
    ).one()
    if not claimed:
        return job
    garage = session.get(Garage, job.garage_id)
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
    job.counts = counts_by_plan({PLAN_OF.get(k, k): n for k, n in outcomes.items()})
    job.done_rows = sum(outcomes.values())
    job.state = BatchState.done.value
    job.finished_at = utcnow()
    announce_job(session, job)
    session.commit()
    return job


def _run_chunks(session: Session, run: Run, pending, waiting: set, parallel: int) -> None:
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

    def chunk(self, session: Session, number: int) -> None:
        """Write one chunk and its progress in one transaction, under the run's claim."""
        if not is_postgresql(session):
            # SQLite refuses to turn a reading transaction into a writing one while
            # another writer waits: take the write lock before the first read.
            self._progress(session, 0)
        done = ChunkWriter(session, self, number, utcnow()).run()
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
