"""Bulk tasks on the passport list: one action over a selection, and each row's outcome."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow


class TaskKind(enum.StrEnum):
    send = "send"
    archive = "archive"
    link = "link"
    unlink = "unlink"
    unarchive = "unarchive"  # the undo of an archive task


class TaskState(enum.StrEnum):
    waiting = "waiting"  # queued for the worker
    running = "running"
    done = "done"
    failed = "failed"


class RowOutcome(enum.StrEnum):
    pending = "pending"
    done = "done"
    refused = "refused"


TASK_KIND_LABELS = {
    TaskKind.send.value: _l("Send passports"),
    TaskKind.archive.value: _l("Archive passports"),
    # What the task did to which, as its page's title says ("Link to a fleet account"
    # alone is the button's words and read oddly beside "Archive passports").
    TaskKind.link.value: _l("Link passports to a fleet account"),
    TaskKind.unlink.value: _l("Unlink passports from their fleet account"),
    TaskKind.unarchive.value: _l("Undo an archiving"),
}

TASK_STATE_LABELS = {
    TaskState.waiting.value: _l("Waiting for its turn"),
    TaskState.running.value: _l("Running"),
    TaskState.done.value: _l("Done"),
    TaskState.failed.value: _l("Failed"),
}


class Task(Model):
    """One bulk action over selected passports, run in the request or by one rq job."""

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_garage_created", "garage_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    # The garage of whoever started it; none for Support and Admin, who act across garages.
    garage_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("garage.id"))
    created_by_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=TaskState.waiting.value)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The selection as the user made it, put in words in the reader's language when read
    # (views/tasks.describe_selection): {"count": n} for checked rows, {"all": true,
    # "count": n, "filters": [[column, value], …]} for all that matched the list's filter,
    # {"undo_of": task id, "count": n} for an undo.
    selection: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    fleet_account_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("fleet_account.id"))
    # An undo task names the archive task it undoes.
    undoes_task_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("task.id"))
    error: Mapped[str | None] = mapped_column(String(500))

    fleet_account = relationship("FleetAccount", lazy="joined")
    creator = relationship(
        "ConsoleUser",
        primaryjoin="foreign(Task.created_by_id) == ConsoleUser.id",
        viewonly=True,
        lazy="joined",
    )

    def kind_label(self) -> str:
        return str(TASK_KIND_LABELS.get(self.kind, self.kind))

    def state_label(self) -> str:
        return str(TASK_STATE_LABELS.get(self.state, self.state))

    def creator_name(self) -> str:
        return self.creator.get_full_name() if self.creator else self.created_by

    @property
    def progress(self) -> dict:
        return {"done": self.done_rows, "total": self.total_rows}


class TaskRow(Model):
    """One passport of a task: what happened to it, and why not (the reason as its
    untranslated message and values, put in the reader's language when read)."""

    __tablename__ = "task_row"
    __table_args__ = (Index("ix_task_row_task_outcome", "task_id", "outcome", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("task.id", ondelete="CASCADE"), nullable=False
    )
    passport_id: Mapped[int] = mapped_column(Integer, ForeignKey("passport.id"), nullable=False)
    plate: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    outcome: Mapped[str] = mapped_column(
        String(10), nullable=False, default=RowOutcome.pending.value
    )
    reason: Mapped[str | None] = mapped_column(Text)
    reason_params: Mapped[Any] = mapped_column(JSON, nullable=True)
    # The passport's state before an archive task, which its undo restores.
    previous_state: Mapped[str | None] = mapped_column(String(20))

    passport = relationship("Passport", lazy="select")
