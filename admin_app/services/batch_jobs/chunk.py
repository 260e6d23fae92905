"""One chunk of a run, written set-based (the chunk writer): a few INSERT … SELECT and
UPDATE … FROM statements over the chunk's plan and staged rows, never one per row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from admin_app.db import changed_rows
from admin_app.models import (
    BatchRow,
    Customer,
    OutboxMessage,
    Passport,
)
from admin_app.models.base import UTCDateTime
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import record_select
from admin_app.services.batch_jobs.planning import (
    OUTCOME_OF,
    VEHICLE_FIELDS,
    affinity_free,
    contact_differs,
    filled_and_different,
    passport_differs,
    planned_rows,
)
from admin_app.services.bulk import (
    is_postgresql,
    json_changes,
    json_pair,
    sql_format,
)
from admin_app.services.search_copy import recopy_customers

if TYPE_CHECKING:
    from admin_app.services.batch_jobs.run import Run

# A chunk's plan, made again when the chunk runs (the database may have changed since the
# preview) and read by each of its writes. Temporary: private to the connection, never
# logged, emptied before the chunk commits. A table and not values passed from step to step
# because every step is one statement over all the chunk's rows, joined to this plan
# (issue 13's speed). This is the one place it is named and made (``open_chunk_plan``);
# ChunkWriter's steps reach it as ``self.plan``, and each step's docstring ends with the
# columns it reads and writes ("Reads chunk_plan: …; writes chunk_plan: …"), checked by
# tests/services/test_batch_package_issue20.py.
CHUNK_PLAN = Table(
    "chunk_plan",
    MetaData(),
    Column("row_id", Integer, primary_key=True, autoincrement=False),
    Column("plate", String(16)),
    Column("email_key", String(320)),
    Column("plan", String(10)),
    Column("reason_code", String(200)),
    Column("passport_id", Integer),
    Column("stock", Boolean),  # the garage's own address: a stock car
    Column("new_customer", Boolean),  # this row's e-mail becomes a customer
    Column("owner_id", Integer),
    Column("mailed", Boolean),  # "send the passports": this row's new passport is mailed
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


def drawn_id(model):
    """A new id for a ``model`` row, drawn from its sequence by the database (PostgreSQL),
    for the chunk plan to hold before the row is inserted with it: the chunk then needs no
    lookup of the rows it just inserted (issue 20: those lookups cost ~2 statement-seconds
    of a 100,000-row list). SQLite has no sequence: there the rows are looked up."""
    sequence = select(func.pg_get_serial_sequence(model.__tablename__, "id")).scalar_subquery()
    return func.nextval(sequence)


def open_chunk_plan(session: Session) -> Table:
    """The chunk plan on this session's connection, made at its first chunk, empty."""
    session.execute(CreateTable(CHUNK_PLAN, if_not_exists=True))
    return CHUNK_PLAN


@dataclass
class ChunkWriter:
    """One chunk's writes: each an INSERT … SELECT or UPDATE … FROM over the chunk's plan
    and staged rows, each with its audit rows written by the database from the same rows.
    No query per row, and none of the rows pass through Python."""

    session: Session
    job: Run
    number: int
    now: dt.datetime
    plan: Table = field(init=False)  # the chunk plan (CHUNK_PLAN), on this connection

    def run(self) -> int:
        """Plan, write, record the outcomes; returns how many rows got one."""
        self.plan = open_chunk_plan(self.session)
        self.fill_plan()
        self.find_customers()
        self.update_customers()
        self.create_customers()
        self.update_passports()
        self.create_passports()
        if self.job.sending:
            self.queue_activation_mails()
        return self.record_outcomes()

    def fill_plan(self) -> None:
        """Each of the chunk's rows without an outcome, planned again as of now (the
        database may have changed since the preview).
        Writes chunk_plan: row_id, plate, plan, reason_code, passport_id, email_key, stock,
        mailed (on PostgreSQL passport_id is also the id drawn for a `create` row's new
        passport)."""
        session = self.session
        planned = (
            planned_rows(
                self.job.job_id,
                self.job.garage_id,
                BatchRow.chunk == self.number,
                BatchRow.outcome.is_(None),
            )
            .add_columns(
                BatchRow.email_key, (BatchRow.email_key == self.job.stock_email).label("stock")
            )
            .subquery()
        )
        # "Send the passports": each new passport that is not a stock car is mailed.
        mailed = and_(planned.c.plan == "create", ~planned.c.stock, literal(self.job.sending))
        columns = list(planned.c)
        if is_postgresql(session):  # the id of each passport the chunk creates
            creates = planned.c.plan == "create"
            passport_id = case((creates, drawn_id(Passport)), else_=planned.c.passport_id)
            columns[columns.index(planned.c.passport_id)] = passport_id
        session.execute(
            insert(self.plan)
            .from_select(
                [*(column.name for column in planned.c), "mailed"],
                select(*columns, mailed),
            )
            .execution_options(**{ALL_TENANTS: True})
        )
        if is_postgresql(session):
            session.execute(text("ANALYZE chunk_plan"))  # or every join below is a guess

    def record_outcomes(self) -> int:
        """Each planned row's outcome on its staged row, then the plan is emptied; returns
        how many rows got one.
        Reads chunk_plan: row_id, plan, reason_code, passport_id."""
        session = self.session
        plan = self.plan.c
        done = changed_rows(
            session.execute(
                update(BatchRow)
                .where(BatchRow.id == plan.row_id)
                .values(
                    plan=plan.plan,
                    reason_code=plan.reason_code,
                    outcome=case(OUTCOME_OF, value=plan.plan, else_=plan.plan),
                    passport_id=plan.passport_id,
                )
                .execution_options(synchronize_session=False)
            )
        )
        session.execute(delete(self.plan))
        return done

    def _rows(self, *plans: str):
        """The chunk's staged rows with these plans (join condition and filter).
        Reads chunk_plan: row_id, plan."""
        plan = self.plan.c
        return and_(BatchRow.id == plan.row_id, plan.plan.in_(plans))

    def find_customers(self, *, still_missing: bool = False) -> None:
        """Each row's customer: the garage's customer with its e-mail (the oldest, should
        there be two). A correlated lookup, so always a probe of the e-mail index,
        whatever the planner thinks of the garage's size (its statistics lag behind a
        list that multiplies it).
        Reads chunk_plan: plan, email_key, owner_id; writes chunk_plan: owner_id."""
        plan = self.plan.c
        rows = [plan.plan.in_(("create", "update"))]
        if still_missing:
            rows.append(plan.owner_id.is_(None))
        self.session.execute(
            update(self.plan)
            .where(*rows)
            .values(
                owner_id=select(func.min(Customer.id))
                .where(
                    Customer.garage_id == self.job.garage_id,
                    func.lower(Customer.email) == affinity_free(self.session, plan.email_key),
                )
                .scalar_subquery()
            )
            .execution_options(**{ALL_TENANTS: True})
        )

    def _any(self, *conditions) -> bool:
        """Whether a row of the chunk's plan meets ``conditions``: a list of new cars skips
        the updates without joining its thousands of rows for nothing.
        Reads chunk_plan: row_id (and what ``conditions`` read)."""
        found = select(self.plan.c.row_id).where(*conditions).limit(1)
        return self.session.scalar(found) is not None

    def update_customers(self) -> None:
        """The row that leads an e-mail fills in its existing customer's contact data.
        Reads chunk_plan: row_id, plan, owner_id."""
        plan = self.plan.c
        if not self._any(plan.owner_id.is_not(None)):
            return
        target = and_(
            self._rows("create", "update"),
            BatchRow.leads,
            Customer.id == plan.owner_id,
            contact_differs(),
        )
        changes = {
            name: case(
                (
                    filled_and_different(getattr(BatchRow, name), getattr(Customer, name)),
                    json_pair(self.session, getattr(Customer, name), getattr(BatchRow, name)),
                ),
                else_=null(),
            )
            for name in CONTACT_FIELDS
        }
        self._audit(
            "update",
            "customer",
            select(
                Customer.id, Customer.garage_id, null(), json_changes(self.session, changes)
            ).where(target),
        )
        self.session.execute(
            update(Customer)
            .where(target)
            .values(
                {
                    name: func.coalesce(getattr(BatchRow, name), getattr(Customer, name))
                    for name in CONTACT_FIELDS
                }
            )
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )
        # A changed last name is found by the counter's search at once; the customers this
        # list creates are copied after the run (services/search_copy).
        recopy_customers(
            self.session,
            select(plan.owner_id).where(self._rows("create", "update"), BatchRow.leads),
        )

    def create_customers(self) -> None:
        """A customer per new e-mail, from the chunk's first row with that e-mail (rows
        are staged in the file's order), with its audit rows.
        Reads chunk_plan: row_id, plan, email_key, owner_id, new_customer; writes
        chunk_plan: new_customer, owner_id."""
        plan = self.plan.c
        # Ranked by a window function: a correlated min() per row was quadratic here.
        ranked = (
            select(
                plan.row_id,
                func.row_number()
                .over(partition_by=plan.email_key, order_by=plan.row_id)
                .label("rank"),
            )
            .where(plan.plan.in_(("create", "update")), plan.owner_id.is_(None))
            .subquery()
        )
        drawing = is_postgresql(self.session)  # the new customer's id, into the plan
        self.session.execute(
            update(self.plan)
            .where(plan.row_id.in_(select(ranked.c.row_id).where(ranked.c.rank == 1)))
            .values(new_customer=True, **({"owner_id": drawn_id(Customer)} if drawing else {}))
        )
        columns = ["garage_id", "email", *CONTACT_FIELDS, "created_at"]
        source = select(
            literal(self.job.garage_id),
            BatchRow.email,
            *(getattr(BatchRow, name) for name in CONTACT_FIELDS),
            literal(self.now, UTCDateTime),
        ).where(BatchRow.id == plan.row_id, plan.new_customer)
        if drawing:
            columns, source = [*columns, "id"], source.add_columns(plan.owner_id)
        self.session.execute(insert(Customer.__table__).from_select(columns, source))
        # The other rows with a new customer's e-mail (and on SQLite, every one).
        self.find_customers(still_missing=True)
        created = and_(Customer.id == plan.owner_id, plan.new_customer)
        self._audit_inserts(Customer, "customer", created, ("email", *CONTACT_FIELDS))

    def update_passports(self) -> None:
        """New owner (by e-mail) and filled-in vehicle fields of the `update` rows.
        Reads chunk_plan: row_id, plan, passport_id, owner_id."""
        owner = Customer
        plan = self.plan.c
        if not self._any(plan.plan == "update"):
            return
        target = and_(
            self._rows("update"),
            Passport.id == plan.passport_id,
            owner.id == Passport.owner_id,
            passport_differs(Passport, owner),
        )
        new_owner = func.lower(owner.email) != BatchRow.email_key
        changes = {
            "owner_id": case(
                (new_owner, json_pair(self.session, Passport.owner_id, plan.owner_id)),
                else_=null(),
            ),
            **{
                name: case(
                    (
                        filled_and_different(getattr(BatchRow, name), getattr(Passport, name)),
                        json_pair(self.session, getattr(Passport, name), getattr(BatchRow, name)),
                    ),
                    else_=null(),
                )
                for name in VEHICLE_FIELDS
            },
            "apk_expiry": case(
                (
                    and_(
                        BatchRow.apk_expiry.is_not(None),
                        Passport.apk_expiry.is_distinct_from(BatchRow.apk_expiry),
                    ),
                    json_pair(self.session, Passport.apk_expiry, BatchRow.apk_expiry),
                ),
                else_=null(),
            ),
        }
        self._audit(
            "update",
            "passport",
            select(
                Passport.id, Passport.garage_id, Passport.id, json_changes(self.session, changes)
            ).where(target),
        )
        self.session.execute(
            update(Passport)
            .where(target)
            .values(
                owner_id=case((new_owner, plan.owner_id), else_=Passport.owner_id),
                **{
                    name: func.coalesce(getattr(BatchRow, name), getattr(Passport, name))
                    for name in (*VEHICLE_FIELDS, "apk_expiry")
                },
            )
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )

    def create_passports(self) -> None:
        """The `create` rows' passports; the garage's own address makes a stock car.
        With "send the passports" they are `sent`: their mails go in this transaction.
        Reads chunk_plan: row_id, plan, plate, owner_id, stock, passport_id; writes
        chunk_plan: passport_id (on SQLite, looked up after the insert)."""
        plan = self.plan.c
        now = literal(self.now, UTCDateTime)
        sending = self.job.sending
        unsent = PassportState.sent.value if sending else PassportState.created.value
        source = select(
            literal(self.job.garage_id),
            BatchRow.plate,
            plan.owner_id,
            *(getattr(BatchRow, name) for name in (*VEHICLE_FIELDS, "apk_expiry")),
            plan.stock,
            case((plan.stock, PassportState.activated.value), else_=unsent),
            case((plan.stock, now), else_=null()),
            case((plan.stock, null()), else_=now) if sending else null(),
            literal("list"),
            now,
        ).where(self._rows("create"))
        columns = [
            "garage_id",
            "plate",
            "owner_id",
            *VEHICLE_FIELDS,
            "apk_expiry",
            "stock_car",
            "state",
            "activated_at",
            "sent_at",
            "created_via",
            "created_at",
        ]
        if is_postgresql(self.session):  # with the ids fill_plan drew
            source = source.add_columns(plan.passport_id)
            self.session.execute(insert(Passport.__table__).from_select([*columns, "id"], source))
        else:
            self.session.execute(insert(Passport.__table__).from_select(columns, source))
            live = select(Passport.id).where(
                Passport.plate == plan.plate, Passport.state != PassportState.archived.value
            )
            self.session.execute(
                update(self.plan)
                .where(plan.plan == "create")
                .values(passport_id=live.scalar_subquery())
                .execution_options(**{ALL_TENANTS: True})
            )
        created = and_(Passport.id == plan.passport_id, plan.plan == "create")
        self._audit_inserts(Passport, "passport", created, columns[1:])

    def queue_activation_mails(self) -> None:
        """R-BJ-3: "send the passports" — an activation mail per new passport, queued by
        the database; the worker makes its link when it sends it (services/mails).
        Reads chunk_plan: row_id, owner_id, mailed, passport_id."""
        plan = self.plan.c
        session = self.session
        now = literal(self.now, UTCDateTime)
        fields = {
            "plate": func.coalesce(BatchRow.shown_plate, BatchRow.plate),
            "garage": literal(self.job.garage_name, String),
        }
        make_object = func.json_build_object if is_postgresql(session) else func.json_object
        session.execute(
            insert(OutboxMessage.__table__)
            .from_select(
                [
                    "garage_id",
                    "recipient",
                    "kind",
                    "state",
                    "attempts",
                    "next_attempt_at",
                    "created_at",
                    "subject",
                    "params",
                ],
                select(
                    literal(self.job.garage_id),
                    Customer.email,
                    literal("activation"),
                    literal("pending"),
                    literal(0),
                    now,
                    now,
                    sql_format(self.job.texts.mail_subject, **fields),
                    make_object(literal("passport_id"), plan.passport_id),
                ).where(
                    BatchRow.id == plan.row_id,
                    Customer.id == plan.owner_id,
                    plan.mailed.is_(True),
                ),
            )
            .execution_options(**{ALL_TENANTS: True})
        )

    def _audit_inserts(self, model, table: str, records, fields) -> None:
        """Audit rows for the new ``model`` rows that ``records`` selects."""
        changes = {
            name: case(
                (
                    getattr(model, name).is_not(None),
                    json_pair(self.session, null(), getattr(model, name)),
                ),
                else_=null(),
            )
            for name in fields
        }
        passport_id = model.id if model is Passport else null()
        self._audit(
            "insert",
            table,
            select(
                model.id, model.garage_id, passport_id, json_changes(self.session, changes)
            ).where(records),
        )

    def _audit(self, action: str, table: str, records) -> None:
        """Audit rows (R-SEC-2) for (record id, garage id, passport id, changes) rows."""
        record_select(self.session, self.job.actor, action, table, records, at=self.now)
