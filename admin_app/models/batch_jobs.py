from __future__ import annotations

import datetime as dt
import enum
from datetime import date, datetime
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.domain import reasons
from admin_app.models.base import UTCDateTime, utcnow


class BatchState(enum.StrEnum):
    previewing = "previewing"
    preview = "preview"
    scheduled = "scheduled"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


BATCH_STATE_LABELS = {
    BatchState.previewing.value: _l("Reading the list"),
    BatchState.preview.value: _l("Preview: waiting for your confirmation"),
    BatchState.scheduled.value: _l("Scheduled for the night"),
    BatchState.running.value: _l("Running"),
    BatchState.done.value: _l("Done"),
    BatchState.failed.value: _l("Failed"),
    BatchState.cancelled.value: _l("Cancelled"),
}
# A scheduled job that is due but not yet started by a worker (BatchJob.waits_to_start).
WAITING_TO_START = _l("Waiting to start")


class RowPlan(enum.StrEnum):
    """What a row of the list will do (the preview, R-BJ-2)."""

    create = "create"
    update = "update"
    unchanged = "unchanged"
    refused = "refused"


class RowOutcome(enum.StrEnum):
    """What a row of the list did (the run, R-BJ-5)."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    refused = "refused"


# A plan and its outcome read alike: "new" before the run and after it.
ROW_LABELS = {
    RowPlan.create.value: _l("new"),
    RowPlan.update.value: _l("updated"),
    RowPlan.unchanged.value: _l("unchanged"),
    RowPlan.refused.value: _l("refused"),
    RowOutcome.created.value: _l("new"),
    RowOutcome.updated.value: _l("updated"),
}


class BatchJob(Model):
    """One uploaded customer list, its schedule and its outcome (R-BJ-2…6)."""

    __tablename__ = "batch_job"
    __table_args__ = (Index("ix_batch_job_due", "state", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("garage.id"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    send_to_customers: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default=BatchState.preview.value)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the customers and cars its run wrote were copied into the counter's search
    # (models/search.py): after the run, not in its chunks' transactions (issue 20).
    searchable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Issue 17: the clock queues a due job (queued_at) but leaves it `scheduled`; the worker
    # that starts it claims it (claimed_by, claimed_at) and only then is it `running`.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Preview counts, then the same keys as done (R-BJ-5).
    counts: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(String(500))
    # The uploaded file, kept only while a large list is previewed in the background.
    upload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    # The login that uploaded it, to name him as the screens do; uploaded_by keeps his
    # user name for when the login is gone or out of the reader's sight.
    uploader = relationship(
        "ConsoleUser",
        primaryjoin="foreign(BatchJob.uploaded_by_id) == ConsoleUser.id",
        viewonly=True,
        lazy="joined",
    )

    def state_label(self) -> str:
        if self.waits_to_start():
            return str(WAITING_TO_START)
        return str(BATCH_STATE_LABELS.get(self.state, self.state))

    def waits_to_start(self, now: dt.datetime | None = None) -> bool:
        """Scheduled and due ("Run now", or its night came): it starts when a worker takes
        it, and stays `scheduled` until then (issue 17), no longer "for the night"."""
        return (
            self.state == BatchState.scheduled.value
            and self.scheduled_for is not None
            and self.scheduled_for <= (now or utcnow())
        )

    def uploader_name(self) -> str:
        """Who uploaded it, as the history names people ("Gert Jansen", not his user name)."""
        return self.uploader.get_full_name() if self.uploader else self.uploaded_by

    @property
    def progress(self) -> dict:
        return {"done": self.done_rows, "total": self.total_rows}


class BatchRow(Model):
    """One row of the list: what it holds, what it will do (plan) and what it did.

    The table is also the importer's staging table: a checked row's values sit in typed
    columns, so planning and running a job are a few set-based statements (R-BJ-6).
    A row refused by its own check keeps the cells as typed, in ``values``, for the
    refused-rows download.
    """

    __tablename__ = "batch_row"
    __table_args__ = (
        Index("ix_batch_row_job_row", "batch_job_id", "row_number", unique=True),
        Index("ix_batch_row_job_email", "batch_job_id", "email_key"),
        Index("ix_batch_row_job_chunk", "batch_job_id", "chunk"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("batch_job.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    plate: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    shown_plate: Mapped[str | None] = mapped_column(
        String(16)
    )  # with its dashes, as the mails show it
    email: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    email_key: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    # Passed its own check (plate, e-mail, last name, date, not a repeated plate).
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The first valid row of its e-mail in the file: it speaks for that customer's contact data.
    leads: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The transaction it is written in; all rows of an e-mail share one (see the run).
    chunk: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    values: Mapped[Any] = mapped_column(JSON, nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    infix: Mapped[str | None] = mapped_column(String(40))
    last_name: Mapped[str | None] = mapped_column(String(150))
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    customer_number: Mapped[str | None] = mapped_column(String(40))
    brand: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(80))
    apk_expiry: Mapped[date | None] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(
        String(10), nullable=False
    )  # create, update, unchanged, refused
    outcome: Mapped[str | None] = mapped_column(
        String(10)
    )  # created, updated, unchanged, refused: set by the run
    # Rows refused before issue 14 hold their reason as (Dutch) text; newer ones hold
    # codes and their parameters, read in the reader's language (domain/reasons).
    reason: Mapped[str | None] = mapped_column(String(500))
    reason_code: Mapped[str | None] = mapped_column(String(200))
    reason_params: Mapped[Any] = mapped_column(JSON, nullable=True)
    passport_id: Mapped[int | None] = mapped_column(Integer)

    def result_label(self) -> str:
        """The outcome once the row ran, its plan before."""
        result = self.outcome or self.plan
        return str(ROW_LABELS.get(result, result))

    def reason_text(self) -> str | None:
        """Why the row is refused, in the reader's language (or as stored, if older)."""
        return reasons.text(self.reason_code, self.reason_params) or self.reason
