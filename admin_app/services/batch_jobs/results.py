"""What the screens and the API show of a job (R-BJ-5): its rows page by page, each
row's result, the refused rows to fix and upload again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Query, Session

from admin_app.db import count_of
from admin_app.domain.plates import display_plate
from admin_app.models import (
    BatchJob,
    BatchRow,
)
from admin_app.services.batch_jobs.planning import ROW_FIELDS
from admin_app.services.customer_lists import HEADERS, TEMPLATE_HEADER

OUTCOMES = ("created", "updated", "unchanged", "refused")


def _rows_of(job: BatchJob, outcome: str | None) -> list:
    """Which rows: the job's, those of one ``outcome`` when given (the plan, before the run)."""
    conditions = [BatchRow.batch_job_id == job.id]
    if outcome:
        plan = {"created": "create", "updated": "update"}.get(outcome, outcome)
        conditions.append(
            (BatchRow.outcome == outcome) | (BatchRow.outcome.is_(None) & (BatchRow.plan == plan))
        )
    return conditions


def job_rows_query(session: Session, job: BatchJob, *, outcome: str | None = None) -> Query:
    """The job's rows as its page lists them, all pages (the rows' export, issue 15)."""
    return session.query(BatchRow).filter(*_rows_of(job, outcome)).order_by(BatchRow.row_number)


def job_rows(
    session: Session, job: BatchJob, *, outcome: str | None = None, limit: int | None = None
) -> list[BatchRow]:
    """The job's rows in sheet order; ``outcome`` filters (the plan, before the run)."""
    query = select(BatchRow).where(*_rows_of(job, outcome)).order_by(BatchRow.row_number)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


# A page of rows the screen shows at once: a 100,000-row list is 500 pages, each read
# from the (job, row number) index.
ROWS_PER_PAGE = 200


@dataclass
class RowsPage:
    rows: list[BatchRow]
    number: int  # 1 is the first page
    pages: int
    total: int  # rows of the job (of the outcome asked for) on all pages
    per_page: int = ROWS_PER_PAGE

    @property
    def first_row(self) -> int:
        """The position (1-based) of this page's first row among all ``total``."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0


def job_rows_page(
    session: Session,
    job: BatchJob,
    *,
    outcome: str | None = None,
    page: int = 1,
    per_page: int = ROWS_PER_PAGE,
) -> RowsPage:
    """One page of the job's rows in sheet order (R-BJ-5): every row of a list of any length
    is on some page. A page past the last shows the last one."""
    conditions = _rows_of(job, outcome)
    total = count_of(session, select(func.count()).select_from(BatchRow).where(*conditions))
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    rows = session.scalars(
        select(BatchRow)
        .where(*conditions)
        .order_by(BatchRow.row_number)
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).all()
    return RowsPage(rows=list(rows), number=number, pages=pages, total=total, per_page=per_page)


def row_result(row: BatchRow) -> dict:
    return {
        "id": row.id,
        "row_number": row.row_number,
        "plate": display_plate(row.plate),
        "email": row.email,
        "outcome": row.outcome or row.plan,
        "reason": row.reason_text(),
        "reason_code": row.reason_code,
    }


# The template's columns, in its order, plus the reason: fix, then upload again.
REFUSED_HEADER = [*TEMPLATE_HEADER, "reden"]
_VALUE_KEYS = list(HEADERS)


def refused_rows_xlsx(session: Session, job: BatchJob) -> bytes:
    """The refused rows with a reason column, ready to fix and upload again (R-BJ-5)."""
    from admin_app.services.customer_lists import xlsx_bytes

    def lines():
        yield REFUSED_HEADER
        for row in job_rows(session, job, outcome="refused"):
            # A row refused by its own check keeps its cells as typed; a checked row that the
            # database refused has them in its columns.
            values = dict(row.values or {name: getattr(row, name) for name in ROW_FIELDS})
            values.setdefault("email", row.email)
            apk = values.get("apk_expiry")
            if isinstance(apk, str):
                try:
                    apk = dt.date.fromisoformat(apk)
                except ValueError:
                    pass
            if isinstance(apk, dt.date):
                values["apk_expiry"] = apk.strftime("%d-%m-%Y")
            values["plate"] = display_plate(values.get("plate") or row.plate)
            yield [values.get(key, "") for key in _VALUE_KEYS] + [row.reason_text() or ""]

    return xlsx_bytes(lines(), sheet_title="Geweigerd")
