"""The next-visit prediction (R-CP-1): a car's next service from its maintenance invoices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from admin_app.db import changed_rows
from admin_app.models import Invoice, Passport
from admin_app.models.base import utcnow
from admin_app.models.passports import PassportState
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import get_actor, record_select
from admin_app.services.bulk import add_days, days_between, is_postgresql, json_changes, json_pair

# The next-visit prediction (R-CP-1): the mean interval between the vehicle's last four
# maintenance invoices — recent habits count, a long-ago gap (a car abroad, an earlier
# owner) stops counting after four visits — kept within 4 months and 2 years; one
# maintenance invoice alone gives a year. The visit is the next service or the APK
# expiry, whichever comes first. One aggregate per vehicle: the same SQL on PostgreSQL
# and SQLite, and cheap for a million vehicles.
RECENT_VISITS = 4
DEFAULT_INTERVAL_DAYS = 365
MIN_INTERVAL_DAYS, MAX_INTERVAL_DAYS = 120, 730


def predict_next_service(maintenance_dates: list[dt.date]) -> dt.date | None:
    """The rule of the SQL in ``update_next_service``, in Python (for tests and reading)."""
    if not maintenance_dates:
        return None
    recent = sorted(maintenance_dates)[-RECENT_VISITS:]
    if len(recent) == 1:
        interval = DEFAULT_INTERVAL_DAYS
    else:
        interval = (recent[-1] - recent[0]).days // (len(recent) - 1)
        interval = min(max(interval, MIN_INTERVAL_DAYS), MAX_INTERVAL_DAYS)
    return recent[-1] + dt.timedelta(days=interval)


def predicted_visit(next_service: dt.date | None, apk_expiry: dt.date | None) -> dt.date | None:
    known = [d for d in (next_service, apk_expiry) if d]
    return min(known) if known else None


# The dates a run changes, staged once: their audit rows and the UPDATE are both written
# from here, so the window-ranked aggregate over every invoice runs once (a first run
# changes a million dates, each with its audit row, R-SEC-2).
NEXT_SERVICE_PLAN = Table(
    "next_service_plan",
    MetaData(),
    Column("passport_id", Integer, primary_key=True, autoincrement=False),
    Column("garage_id", Integer),
    Column("old", Date),
    Column("new", Date),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


def update_next_service(session: Session, garage_id: int | None = None) -> int:
    """Every live passport's next service date from its garage's maintenance invoices
    (a garage's, or all), set-based, with one audit row per changed passport. Returns
    how many changed."""
    ranking = select(
        Invoice.garage_id,
        Invoice.plate,
        Invoice.invoice_date,
        func.row_number()
        .over(
            partition_by=(Invoice.garage_id, Invoice.plate),
            order_by=Invoice.invoice_date.desc(),
        )
        .label("rank"),
    ).where(Invoice.kind == "maintenance")
    if garage_id is not None:
        ranking = ranking.where(Invoice.garage_id == garage_id)
    ranked = ranking.subquery()
    visits = (
        select(
            ranked.c.garage_id,
            ranked.c.plate,
            func.count().label("visits"),
            func.min(ranked.c.invoice_date).label("first"),
            func.max(ranked.c.invoice_date).label("last"),
        )
        .where(ranked.c.rank <= RECENT_VISITS)
        .group_by(ranked.c.garage_id, ranked.c.plate)
        .subquery()
    )
    # Floor division, as in Python: SQLAlchemy's "/" would divide as decimals.
    mean = days_between(session, visits.c.last, visits.c.first) // (visits.c.visits - 1)
    interval = case(
        (visits.c.visits == 1, DEFAULT_INTERVAL_DAYS),
        (mean < MIN_INTERVAL_DAYS, MIN_INTERVAL_DAYS),
        (mean > MAX_INTERVAL_DAYS, MAX_INTERVAL_DAYS),
        else_=mean,
    )
    next_service = add_days(session, visits.c.last, interval)
    session.execute(CreateTable(NEXT_SERVICE_PLAN, if_not_exists=True))
    session.execute(delete(NEXT_SERVICE_PLAN))
    session.execute(
        insert(NEXT_SERVICE_PLAN)
        .from_select(
            ["passport_id", "garage_id", "old", "new"],
            select(Passport.id, Passport.garage_id, Passport.next_service, next_service).where(
                Passport.garage_id == visits.c.garage_id,
                Passport.plate == visits.c.plate,
                Passport.state != PassportState.archived.value,
                Passport.next_service.is_distinct_from(next_service),
            ),
        )
        .execution_options(**{ALL_TENANTS: True})
    )
    if is_postgresql(session):
        session.execute(text("ANALYZE next_service_plan"))  # or the joins below are a guess
    plan = NEXT_SERVICE_PLAN.c
    record_select(
        session,
        get_actor(session),
        "update",
        "passport",
        select(
            plan.passport_id,
            plan.garage_id,
            plan.passport_id,
            json_changes(session, {"next_service": json_pair(session, plan.old, plan.new)}),
        ),
        at=utcnow(),
    )
    changed = changed_rows(
        session.execute(
            update(Passport)
            .where(Passport.id == plan.passport_id)
            .values(next_service=plan.new)
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )
    )
    session.execute(delete(NEXT_SERVICE_PLAN))
    return changed
