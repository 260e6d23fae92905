"""What each staged row of a list will do (create, update, unchanged, refused), decided
in the database, one statement for all rows: at the preview, and again for each chunk
when it runs (the database may have changed since)."""

from __future__ import annotations

from sqlalchemy import (
    String,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from admin_app.models import (
    BatchJob,
    BatchRow,
    Customer,
    Passport,
    Transfer,
)
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.scope import ALL_TENANTS
from admin_app.services.bulk import (
    is_postgresql,
)

PLANS = ("create", "update", "unchanged", "refused")
PLAN_OF = {"created": "create", "updated": "update"}
OUTCOME_OF = {plan: outcome for outcome, plan in PLAN_OF.items()}

LOCKED_STATES = (PassportState.activated.value, PassportState.transfer_pending.value)
VEHICLE_FIELDS = ("brand", "model")
ROW_FIELDS = (*CONTACT_FIELDS, *VEHICLE_FIELDS, "apk_expiry")


def filled_and_different(row_column, stored_column):
    """A cell the list fills in that differs from what is stored: empty cells change nothing."""
    return and_(row_column.is_not(None), func.coalesce(stored_column, "") != row_column)


def affinity_free(session: Session, column):
    """``column`` as a value SQLite compares with an expression index's key.

    SQLite uses an index on an expression such as lower(email) only where the comparison
    has no affinity; a text column on the other side gives it TEXT, and the lookup reads
    every customer of the garage instead (1 s per 5,000 customers per chunk: a 20,000-row
    list spent 24 of its 44 s there, issue 13). `x || ''` is the same text without one."""
    if is_postgresql(session):
        return column
    return column.op("||")(literal("", String))


def passport_differs(passport, owner):
    return or_(
        func.lower(owner.email) != BatchRow.email_key,
        *(
            filled_and_different(getattr(BatchRow, name), getattr(passport, name))
            for name in VEHICLE_FIELDS
        ),
        and_(
            BatchRow.apk_expiry.is_not(None),
            passport.apk_expiry.is_distinct_from(BatchRow.apk_expiry),
        ),
    )


def contact_differs(customer=Customer):
    return or_(
        *(
            filled_and_different(getattr(BatchRow, name), getattr(customer, name))
            for name in CONTACT_FIELDS
        )
    )


def planned_rows(job_id: int, garage_id: int, *criteria):
    """What each of the job's rows matching ``criteria`` will do, as of now: one lookup of
    the plate's live passport (at any garage) and its owner per row.

    create: no live passport with the plate; refused: refused by its own check, live at
    another garage, or the e-mail of an activated or transferred passport would change
    (R-PP-7); update: the owner's e-mail, a vehicle field, or (for the row that leads its
    e-mail) the customer's contact data differs; unchanged otherwise. Columns: row_id,
    plate, plan, reason_code, passport_id (the live passport at this garage).
    """
    passport, owner = aliased(Passport), aliased(Customer)
    here = passport.garage_id == garage_id
    elsewhere = passport.garage_id != garage_id
    transferred = exists().where(
        Transfer.passport_id == passport.id,
        Transfer.kind == "owner",
        Transfer.state == TransferState.accepted.value,
    )
    locked = and_(
        here,
        func.lower(owner.email) != BatchRow.email_key,
        or_(passport.state.in_(LOCKED_STATES), transferred),
    )
    differs = or_(passport_differs(passport, owner), and_(BatchRow.leads, contact_differs(owner)))
    return (
        select(
            BatchRow.id.label("row_id"),
            BatchRow.plate,
            case(
                (~BatchRow.valid, "refused"),
                (passport.id.is_(None), "create"),
                (elsewhere, "refused"),
                (locked, "refused"),
                (differs, "update"),
                else_="unchanged",
            ).label("plan"),
            # Codes, put into words when read (domain/reasons); a row refused by its
            # own check keeps its codes and their parameters from the upload.
            case(
                (~BatchRow.valid, BatchRow.reason_code),
                (elsewhere, literal("other_garage")),
                (locked, literal("email_locked")),
                else_=null(),
            ).label("reason_code"),
            case((here, passport.id), else_=null()).label("passport_id"),
        )
        .outerjoin(
            passport,
            and_(
                passport.plate == BatchRow.plate,
                passport.state != PassportState.archived.value,
            ),
        )
        .outerjoin(owner, owner.id == passport.owner_id)
        .where(BatchRow.batch_job_id == job_id, *criteria)
    )


def plan_rows(session: Session, job: BatchJob) -> None:
    """The preview's plan for every checked row; written only where it is not `create`
    (how a row is staged), so a list of new cars costs reads, not a rewrite."""
    planned = planned_rows(job.id, job.garage_id, BatchRow.valid).subquery()
    session.execute(
        update(BatchRow)
        .where(BatchRow.id == planned.c.row_id, planned.c.plan != BatchRow.plan)
        .values(plan=planned.c.plan, reason_code=planned.c.reason_code)
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    )


def counts_by_plan(counted: dict) -> dict:
    return {key: counted.get(key, 0) for key in PLANS}
