"""What the operator's Prometheus reads at scrape time, from the database and Redis.

Read when scraped rather than counted in the process that did the work: mail is sent and
lists are run by workers on any machine, and a web process's counters would only know its
own share (issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models.batch_jobs import BatchJob, BatchState
from admin_app.models.outbox import OutboxMessage, OutboxState

# Finished lists counted for the rows-per-second figure and the job durations.
RECENT = timedelta(hours=24)


@dataclass
class WorkFigures:
    mails_by_state: dict[str, int] = field(default_factory=dict)
    batch_jobs_by_state: dict[str, int] = field(default_factory=dict)
    batch_rows_per_second: float = 0.0
    batch_durations_s: list[float] = field(default_factory=list)
    batch_failures_recent: int = 0


def work_figures(session: Session, now: datetime) -> WorkFigures:
    figures = WorkFigures()
    figures.mails_by_state = {state.value: 0 for state in OutboxState}
    for state, count in session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ):
        figures.mails_by_state[state] = count
    figures.batch_jobs_by_state = {state.value: 0 for state in BatchState}
    for state, count in session.execute(
        select(BatchJob.state, func.count()).group_by(BatchJob.state)
    ):
        figures.batch_jobs_by_state[state] = count
    recent = session.execute(
        select(BatchJob.state, BatchJob.started_at, BatchJob.finished_at, BatchJob.done_rows)
        .where(BatchJob.finished_at >= now - RECENT)
        .where(BatchJob.state.in_([BatchState.done.value, BatchState.failed.value]))
    ).all()
    rows = seconds = 0.0
    for state, started_at, finished_at, done_rows in recent:
        if state == BatchState.failed.value:
            figures.batch_failures_recent += 1
        if started_at and finished_at:
            duration = max((finished_at - started_at).total_seconds(), 0.0)
            figures.batch_durations_s.append(duration)
            rows += done_rows or 0
            seconds += duration
    figures.batch_rows_per_second = rows / seconds if seconds else 0.0
    return figures
