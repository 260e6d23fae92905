from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow

EXPORT_STATES = ("queued", "running", "done", "failed")
EXPORT_STATE_LABELS = {
    "queued": _l("Waiting for its turn"),
    "running": _l("Being made"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}


class ExportFile(Model):
    """A list exported by a worker (issue 15): an XLSX too large to build in a request.

    The file is kept here, not on a disk: web processes and workers may run on machines
    that share only the database and Redis. Only the user who asked may download it, for
    24 hours; then its bytes are dropped. The worker reruns the list screen's query as
    that user (``endpoint`` and ``arguments``, within his scope)."""

    __tablename__ = "export_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_name: Mapped[str] = mapped_column(String(256), nullable=False)
    # A label, as in the audit log: the garage the user acted for (None for Support).
    garage_id: Mapped[int | None] = mapped_column(Integer)
    list_name: Mapped[str] = mapped_column(String(60), nullable=False)
    endpoint: Mapped[str] = mapped_column(
        String(120), nullable=False
    )  # the list view, e.g. "PassportView"
    arguments: Mapped[str] = mapped_column(
        Text, nullable=False, default=""
    )  # the screen's query string
    filter_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    fmt: Mapped[str] = mapped_column(String(10), nullable=False)
    locale: Mapped[str] = mapped_column(
        String(10), nullable=False, default="nl"
    )  # of the headers and words
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="queued")
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def state_label(self) -> str:
        return str(EXPORT_STATE_LABELS.get(self.state, self.state))
