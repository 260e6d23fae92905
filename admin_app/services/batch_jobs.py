"""Customer-list batch jobs (R-BJ-2…6): preview, confirm for the night, run in chunks.

A job works set-based, a chunk of rows at a time: a few queries and bulk writes per chunk,
never one per row. Each chunk commits its passports, customers, audit rows, outbox rows
and row outcomes together, so a killed worker resumes after the last committed chunk and
a second run of the same file only finds `unchanged` rows.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from admin_app.models import (
    AccessToken,
    AuditLog,
    BatchJob,
    BatchRow,
    Customer,
    Garage,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.audit import Actor
from admin_app.services.bulk import is_postgresql, json_changes, json_pair, load_rows
from admin_app.services.customer_lists import HEADERS, TEMPLATE_HEADER, check_rows, read_list
from admin_app.services.emails import email_key
from admin_app.services.errors import Conflict, Forbidden, NotFound
from admin_app.services.passports import ACTIVATION, ACTIVATION_TTL
from admin_app.services.plates import display_plate
from admin_app.services.tokens import _hash

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NIGHTLY_HOUR = 1
CHUNK = 5000
STALE_HEARTBEAT = dt.timedelta(minutes=10)
PLANS = ("create", "update", "unchanged", "refused")


# --- schedule (R-BJ-4) ---------------------------------------------------------------------


def next_nightly_run(now: dt.datetime) -> dt.datetime:
    """The next 01:00 Europe/Amsterdam after ``now``, winter and summer time alike."""
    local = now.astimezone(AMSTERDAM)
    candidate = dt.datetime.combine(local.date(), dt.time(NIGHTLY_HOUR), tzinfo=AMSTERDAM)
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time(NIGHTLY_HOUR), tzinfo=AMSTERDAM
        )
    return candidate.astimezone(dt.UTC)


# --- planning rows in the database -------------------------------------------------------

LOCKED_STATES = (PassportState.activated.value, PassportState.transfer_pending.value)
VEHICLE_FIELDS = ("brand", "model")
ROW_FIELDS = (*CONTACT_FIELDS, *VEHICLE_FIELDS, "apk_expiry")


def _live_passport(garage_id: int | None = None):
    """The live passport of a batch row's plate (optionally: at this garage)."""
    condition = and_(
        Passport.plate == BatchRow.plate, Passport.state != PassportState.archived.value
    )
    return condition if garage_id is None else and_(condition, Passport.garage_id == garage_id)


def _filled_and_different(row_column, stored_column):
    """A cell the list fills in that differs from what is stored: empty cells change nothing."""
    return and_(row_column.is_not(None), func.coalesce(stored_column, "") != row_column)


def _passport_differs():
    return or_(
        func.lower(Customer.email) != BatchRow.email_key,
        *(
            _filled_and_different(getattr(BatchRow, name), getattr(Passport, name))
            for name in VEHICLE_FIELDS
        ),
        and_(
            BatchRow.apk_expiry.is_not(None),
            Passport.apk_expiry.is_distinct_from(BatchRow.apk_expiry),
        ),
    )


def _contact_differs():
    return or_(
        *(
            _filled_and_different(getattr(BatchRow, name), getattr(Customer, name))
            for name in CONTACT_FIELDS
        )
    )


def _plan_rows(session: Session, job: BatchJob, *criteria) -> None:
    """Plan every checked row of the job that matches ``criteria`` in one UPDATE.

    create: no live passport with the plate; refused: live at another garage, or the
    e-mail of an activated or transferred passport would change (R-PP-7); update: the
    owner's e-mail, a vehicle field, or (for the row that leads its e-mail) the customer's
    contact data differs; unchanged otherwise. Run at the preview and again per chunk,
    because the database may have changed in between.
    """
    garage_id = job.garage_id
    elsewhere = exists().where(_live_passport(), Passport.garage_id != garage_id)
    transferred = exists().where(
        Transfer.passport_id == Passport.id,
        Transfer.kind == "owner",
        Transfer.state == TransferState.accepted.value,
    )
    locked = exists().where(
        _live_passport(garage_id),
        Customer.id == Passport.owner_id,
        func.lower(Customer.email) != BatchRow.email_key,
        or_(Passport.state.in_(LOCKED_STATES), transferred),
    )
    here = exists().where(_live_passport(garage_id))
    differs = exists().where(
        _live_passport(garage_id),
        Customer.id == Passport.owner_id,
        or_(_passport_differs(), and_(BatchRow.leads, _contact_differs())),
    )
    other_garage = str(_l("The plate has an active passport at another garage."))
    email_locked = str(
        _l(
            "The passport is activated or transferred: its e-mail can only be changed "
            "by the support desk."
        )
    )
    session.execute(
        update(BatchRow)
        .where(BatchRow.batch_job_id == job.id, BatchRow.valid, *criteria)
        .values(
            plan=case(
                (elsewhere, "refused"),
                (locked, "refused"),
                (~here, "create"),
                (differs, "update"),
                else_="unchanged",
            ),
            reason=case((elsewhere, other_garage), (locked, email_locked), else_=null()),
        )
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    )


# --- upload and preview (R-BJ-2, R-BJ-3) ---------------------------------------------------


# Lists longer than this are previewed by a worker, with progress (R-BJ-2, R-X-3).
BACKGROUND_PREVIEW_ROWS = 20_000


def upload_list(
    session: Session,
    *,
    actor: Actor,
    filename: str,
    data: bytes,
    send_to_customers: bool,
    background_from: int = BACKGROUND_PREVIEW_ROWS,
) -> BatchJob:
    """Check the file as a whole (an unreadable one raises before anything is stored),
    then preview it: small lists at once, large ones in the background (`previewing`)."""
    if not actor.has("Garage") or not actor.garage_id:
        raise Forbidden(_l("Only a garage uploads customer lists."))
    read = read_list(filename, data)
    job = BatchJob(
        garage_id=actor.garage_id,
        filename=(filename or "lijst")[:255],
        uploaded_by_id=actor.id,
        uploaded_by=actor.name,
        send_to_customers=bool(send_to_customers),
        total_rows=read.size,
        counts=_counts({}),
    )
    session.add(job)
    if read.size > background_from:
        job.state = BatchState.previewing.value
        job.upload = data
        session.flush()
        from admin_app.jobs.batch import preview_batch
        from admin_app.queueing import enqueue_after_commit

        enqueue_after_commit(session, preview_batch, job.id)
        return job
    job.state = BatchState.preview.value
    session.flush()
    _store_preview(session, job, check_rows(read))
    return job


def preview_in_background(session: Session, job_id: int) -> BatchJob:
    """The worker's half of a large upload: check every row, with progress, then plan."""
    job = session.scalars(
        select(BatchJob).where(BatchJob.id == job_id).execution_options(**{ALL_TENANTS: True})
    ).one()
    if job.state != BatchState.previewing.value:
        return job

    def progress(done: int) -> None:
        session.execute(update(BatchJob).where(BatchJob.id == job.id).values(done_rows=done))
        session.commit()

    # Progress commits as it goes; rows of an earlier, interrupted attempt go first.
    session.execute(delete(BatchRow).where(BatchRow.batch_job_id == job.id))
    rows = list(check_rows(read_list(job.filename, job.upload), progress=progress))
    _store_preview(session, job, rows)
    job.upload = None
    job.done_rows = 0
    job.state = BatchState.preview.value
    session.commit()
    return job


STAGED_COLUMNS = [
    "batch_job_id",
    "row_number",
    "plate",
    "email",
    "email_key",
    "valid",
    "leads",
    "values",
    "plan",
    "reason",
    *ROW_FIELDS,
]


def _store_preview(session: Session, job: BatchJob, rows) -> None:
    """Stage the checked rows (COPY on PostgreSQL), then plan them all in one statement."""
    leading: set[str] = set()

    def staged():
        for row in rows:
            key = email_key(row.email)
            valid = row.reason is None
            leads = valid and key not in leading
            if leads:
                leading.add(key)
            values = row.values
            yield (
                job.id,
                row.row_number,
                row.plate,
                row.email,
                key,
                valid,
                leads,
                None if valid else _json_values(values),
                "create" if valid else "refused",
                row.reason,
                *((values.get(name) or None) if valid else None for name in ROW_FIELDS),
            )

    total = load_rows(session, BatchRow.__table__, STAGED_COLUMNS, staged())
    if is_postgresql(session):
        # Fresh statistics, or the planner guesses the staged rows' joins blind.
        session.execute(text("ANALYZE batch_row"))
    _plan_rows(session, job)
    job.total_rows = total
    job.counts = _counts(
        dict(
            session.execute(
                select(BatchRow.plan, func.count())
                .where(BatchRow.batch_job_id == job.id)
                .group_by(BatchRow.plan)
            ).all()
        )
    )


def _counts(counted: dict) -> dict:
    return {key: counted.get(key, 0) for key in PLANS}


def _json_values(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


def get_job(session: Session, job_id) -> BatchJob:
    job = scoped_get(session, BatchJob, job_id)
    if job is None:
        raise NotFound(_l("Not found."))
    return job


def confirm_job(
    session: Session, job_id, *, actor: Actor, now: dt.datetime | None = None
) -> BatchJob:
    """The garage confirms: the job runs in the next nightly batch at 01:00 (R-BJ-4)."""
    job = get_job(session, job_id)
    if not actor.has("Garage"):
        raise Forbidden(_l("The garage that uploaded the list confirms it."))
    if job.state != BatchState.preview.value:
        raise Conflict(_l("Only a previewed list can be confirmed."))
    job.state = BatchState.scheduled.value
    job.scheduled_for = next_nightly_run(now or utcnow())
    session.flush()
    return job


def cancel_job(session: Session, job_id, *, actor: Actor) -> BatchJob:
    job = get_job(session, job_id)
    if not actor.has("Garage", "Admin"):
        raise Forbidden(_l("You may not do this."))
    if job.state not in (BatchState.preview.value, BatchState.scheduled.value):
        raise Conflict(_l("A job can be cancelled until it starts."))
    job.state = BatchState.cancelled.value
    session.flush()
    return job


def run_now(session: Session, job_id, *, actor: Actor, now: dt.datetime | None = None) -> BatchJob:
    """Admin and Support run a confirmed job at once (R-BJ-4)."""
    if not actor.has("Admin", "Support"):
        raise Forbidden(_l("You may not do this."))
    job = get_job(session, job_id)
    if job.state != BatchState.scheduled.value:
        raise Conflict(_l("Only a confirmed job that has not started can be run now."))
    job.scheduled_for = now or utcnow()
    session.flush()
    return job


# --- claiming due jobs (several workers, restarts) -----------------------------------------


def claim_due_jobs(
    session: Session, now: dt.datetime, stale_after: dt.timedelta = STALE_HEARTBEAT
) -> list[int]:
    """Atomically take scheduled jobs that are due, and running jobs whose worker died.

    A conditional UPDATE per candidate: of two workers ticking at once only one gets
    rowcount 1 for a job. A run missed while the system was down is simply due.
    """
    due = (BatchJob.state == BatchState.scheduled.value) & (BatchJob.scheduled_for <= now)
    abandoned = (BatchJob.state == BatchState.running.value) & (
        BatchJob.heartbeat_at < now - stale_after
    )
    candidates = session.scalars(
        select(BatchJob.id).where(due | abandoned).execution_options(**{ALL_TENANTS: True})
    ).all()
    claimed = []
    for job_id in candidates:
        # The same condition again in the UPDATE: whoever changes the row first wins.
        result = session.execute(
            update(BatchJob)
            .where(BatchJob.id == job_id, due | abandoned)
            .values(
                state=BatchState.running.value,
                heartbeat_at=now,
                started_at=func.coalesce(BatchJob.started_at, now),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(job_id)
    session.commit()
    return claimed


# --- the run (R-BJ-6) ----------------------------------------------------------------------


def process_job(
    session: Session, job_id: int, *, base_url: str, chunk_size: int = CHUNK
) -> BatchJob:
    """Run a claimed job to the end, one committed chunk at a time; safe to repeat."""
    job = session.scalars(
        select(BatchJob).where(BatchJob.id == job_id).execution_options(**{ALL_TENANTS: True})
    ).one()
    if job.state != BatchState.running.value:
        return job
    actor = Actor(
        job.uploaded_by_id,
        f"job:batch {job.id} ({job.uploaded_by})",
        roles=frozenset({"Garage"}),
        garage_id=job.garage_id,
    )
    garage = session.get(Garage, job.garage_id)
    chunks = 0
    after = 0  # the last row number of the previous chunk
    while True:
        # The chunk is the next rows without an outcome, up to a row number: a resumed
        # run skips the rows a killed worker committed.
        last = session.scalar(
            select(BatchRow.row_number)
            .where(
                BatchRow.batch_job_id == job.id,
                BatchRow.row_number > after,  # an index range, not a rescan from row 2
                BatchRow.outcome.is_(None),
            )
            .order_by(BatchRow.row_number)
            .offset(chunk_size - 1)
            .limit(1)
        )
        done = _run_chunk(session, job, garage, last, actor, base_url)
        if not done:
            break
        job.done_rows = (job.done_rows or 0) + done
        job.heartbeat_at = utcnow()
        session.commit()
        if last is None:
            break  # that was the last, partial chunk
        after = last
        chunks += 1
        if is_postgresql(session) and chunks & (chunks - 1) == 0:
            # A list can multiply a garage's rows within one run; with statistics from
            # before it the planner picks scans that make every chunk slower than the
            # last. Refreshed after chunk 1, 2, 4, 8, …: never more than twice stale.
            session.execute(text("ANALYZE customer, passport"))
            session.commit()
    outcomes = dict(
        session.execute(
            select(BatchRow.outcome, func.count())
            .where(BatchRow.batch_job_id == job.id)
            .group_by(BatchRow.outcome)
        ).all()
    )
    job.counts = _counts({PLAN_OF.get(k, k): n for k, n in outcomes.items()})
    job.done_rows = sum(outcomes.values())
    job.state = BatchState.done.value
    job.finished_at = utcnow()
    session.commit()
    return job


def _chunk(job: BatchJob, last: int | None, row=BatchRow) -> list:
    """The rows of the chunk that ends at row number ``last`` (None: all that are left)."""
    criteria = [row.batch_job_id == job.id, row.outcome.is_(None)]
    return criteria if last is None else [*criteria, row.row_number <= last]


PLAN_OF = {"created": "create", "updated": "update"}
OUTCOME_OF = {plan: outcome for outcome, plan in PLAN_OF.items()}


def _run_chunk(
    session: Session, job: BatchJob, garage: Garage, last: int | None, actor: Actor, base_url: str
) -> int:
    """One chunk in a few set-based statements; returns how many rows got an outcome."""
    in_chunk = and_(*_chunk(job, last))
    _plan_rows(session, job, in_chunk)
    now = utcnow()
    writes = _Writes(session, job, last, actor, now)
    writes.create_customers()
    writes.update_customers()
    writes.update_passports()
    created = writes.create_passports(email_key(garage.email or ""), job.send_to_customers)
    if job.send_to_customers and created:
        _queue_activation_mails(session, garage, created, base_url, now)
    result = session.execute(
        update(BatchRow)
        .where(in_chunk)
        .values(
            outcome=case(OUTCOME_OF, value=BatchRow.plan, else_=BatchRow.plan),
            passport_id=select(Passport.id).where(_live_passport(job.garage_id)).scalar_subquery(),
        )
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    )
    return result.rowcount


@dataclass
class _Writes:
    """The writes of one chunk, each an INSERT … SELECT or UPDATE … FROM over the staged
    rows, each with its audit rows written by the database from the same rows."""

    session: Session
    job: BatchJob
    last: int | None
    actor: Actor
    now: dt.datetime

    def _rows(self, *plans: str):
        return and_(*_chunk(self.job, self.last), BatchRow.plan.in_(plans))

    def _same_customer(self):
        return and_(
            Customer.garage_id == self.job.garage_id,
            func.lower(Customer.email) == BatchRow.email_key,
        )

    def create_customers(self) -> None:
        """A customer per new e-mail, from the chunk's first row with that e-mail."""
        # Ranked by a window function: a correlated min() per row was quadratic here.
        ranked = (
            select(
                BatchRow.id,
                func.row_number()
                .over(partition_by=BatchRow.email_key, order_by=BatchRow.row_number)
                .label("rank"),
            )
            .where(self._rows("create", "update"))
            .subquery()
        )
        source = (
            select(
                literal(self.job.garage_id),
                BatchRow.email,
                *(getattr(BatchRow, name) for name in CONTACT_FIELDS),
                literal(self.now, UTCDateTime),
            )
            .join(ranked, ranked.c.id == BatchRow.id)
            .where(ranked.c.rank == 1, ~exists().where(self._same_customer()))
        )
        table = Customer.__table__
        ids = self.session.scalars(
            insert(table)
            .from_select(["garage_id", "email", *CONTACT_FIELDS, "created_at"], source)
            .returning(table.c.id)
        ).all()
        fields = ("email", *CONTACT_FIELDS)
        self._audit_inserts(Customer, "customer", ids, fields)

    def update_customers(self) -> None:
        """The row that leads an e-mail fills in the existing customer's contact data."""
        target = and_(self._rows("create", "update"), BatchRow.leads, self._same_customer())
        changes = {
            name: case(
                (
                    _filled_and_different(getattr(BatchRow, name), getattr(Customer, name)),
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
            ).where(target, _contact_differs()),
        )
        self.session.execute(
            update(Customer)
            .where(target, _contact_differs())
            .values(
                {
                    name: func.coalesce(getattr(BatchRow, name), getattr(Customer, name))
                    for name in CONTACT_FIELDS
                }
            )
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )

    def _new_owner(self):
        """The customer of the row's e-mail (the oldest, should the garage have two)."""
        candidate = aliased(Customer)
        return (
            select(func.min(candidate.id))
            .where(
                candidate.garage_id == self.job.garage_id,
                func.lower(candidate.email) == BatchRow.email_key,
            )
            .correlate(BatchRow)
            .scalar_subquery()
        )

    def update_passports(self) -> None:
        """New owner (by e-mail) and filled-in vehicle fields of the `update` rows."""
        owner = Customer
        target = and_(
            self._rows("update"),
            _live_passport(self.job.garage_id),
            owner.id == Passport.owner_id,
            _passport_differs(),
        )
        new_owner = self._new_owner()
        changes = {
            "owner_id": case(
                (
                    func.lower(owner.email) != BatchRow.email_key,
                    json_pair(self.session, Passport.owner_id, new_owner),
                ),
                else_=null(),
            ),
            **{
                name: case(
                    (
                        _filled_and_different(getattr(BatchRow, name), getattr(Passport, name)),
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
        # Owner first, while the old owner's e-mail still tells which rows change owner.
        self.session.execute(
            update(Passport)
            .where(target)
            .values(
                owner_id=new_owner,
                **{
                    name: func.coalesce(getattr(BatchRow, name), getattr(Passport, name))
                    for name in (*VEHICLE_FIELDS, "apk_expiry")
                },
            )
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )

    def create_passports(self, garage_email_key: str, sending: bool) -> list[int]:
        """The `create` rows' passports; the garage's own address makes a stock car.
        ``sending``: the activation mails are queued in this transaction (R-BJ-3)."""
        stock = BatchRow.email_key == garage_email_key
        now = literal(self.now, UTCDateTime)
        unsent = PassportState.sent.value if sending else PassportState.created.value
        source = select(
            literal(self.job.garage_id),
            BatchRow.plate,
            self._new_owner(),
            *(getattr(BatchRow, name) for name in (*VEHICLE_FIELDS, "apk_expiry")),
            stock,
            case((stock, PassportState.activated.value), else_=unsent),
            case((stock, now), else_=null()),
            case((stock, null()), else_=now) if sending else null(),
            literal("list"),
            now,
        ).where(self._rows("create"))
        table = Passport.__table__
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
        ids = self.session.scalars(
            insert(table).from_select(columns, source).returning(table.c.id)
        ).all()
        self._audit_inserts(Passport, "passport", ids, columns[1:])
        return ids

    def _audit_inserts(self, model, table: str, ids: list[int], fields) -> None:
        if not ids:
            return
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
        for start in range(0, len(ids), CHUNK):
            self._audit(
                "insert",
                table,
                select(
                    model.id, model.garage_id, passport_id, json_changes(self.session, changes)
                ).where(model.id.in_(ids[start : start + CHUNK])),
            )

    def _audit(self, action: str, table: str, records) -> None:
        """Audit rows (R-SEC-2) for (record id, garage id, passport id, changes) rows."""
        records = records.add_columns(
            literal(self.now, UTCDateTime),
            literal(self.actor.id, Integer),
            literal(self.actor.name),
            literal(action),
            literal(table),
        )
        self.session.execute(
            insert(AuditLog.__table__)
            .from_select(
                [
                    "record_id",
                    "garage_id",
                    "passport_id",
                    "changes",
                    "at",
                    "actor_id",
                    "actor_name",
                    "action",
                    "table_name",
                ],
                records,
            )
            .execution_options(**{ALL_TENANTS: True})
        )


def _queue_activation_mails(
    session: Session, garage: Garage, passport_ids: list[int], base_url: str, now: dt.datetime
) -> None:
    """R-BJ-3: "send the passports" — a token and a mail per new passport, loaded in bulk."""
    rows = session.execute(
        select(Passport.id, Passport.plate, Customer.email)
        .join(Customer, Customer.id == Passport.owner_id)
        .where(Passport.id.in_(passport_ids), Passport.stock_car.is_(False))
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    if not rows:
        return
    with force_locale("nl"):
        # Translated once; filled in per passport below (no gettext call per row).
        subject = str(_l("Your AutoPassport for %(plate)s from %(garage)s"))
        body = str(
            _l(
                "Dear customer,\n\n%(garage)s made a digital vehicle passport "
                "for your car %(plate)s. Activate it and choose your password "
                "within 7 days:\n\n%(link)s\n\nThe link works once.\n"
            )
        )
    link = f"{base_url.rstrip('/')}/activate/"
    expires = now + ACTIVATION_TTL
    tokens, mails = [], []
    for passport_id, plate, email in rows:
        raw = secrets.token_urlsafe(32)
        tokens.append((ACTIVATION, _hash(raw), passport_id, expires, now))
        shown = display_plate(plate)
        text = {"plate": shown, "garage": garage.name, "link": link + raw}
        mails.append(
            (garage.id, email, "activation", "pending", 0, now, now, subject % text, body % text)
        )
    load_rows(
        session,
        AccessToken.__table__,
        ["purpose", "token_hash", "subject_id", "expires_at", "created_at"],
        tokens,
    )
    load_rows(
        session,
        OutboxMessage.__table__,
        [
            "garage_id",
            "recipient",
            "kind",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
            "subject",
            "body",
        ],
        mails,
    )


# --- what the screens and the API show (R-BJ-5) --------------------------------------------

OUTCOMES = ("created", "updated", "unchanged", "refused")


def job_rows(
    session: Session, job: BatchJob, *, outcome: str | None = None, limit: int | None = None
) -> list[BatchRow]:
    """The job's rows in sheet order; ``outcome`` filters (the plan, before the run)."""
    query = select(BatchRow).where(BatchRow.batch_job_id == job.id)
    if outcome:
        plan = {"created": "create", "updated": "update"}.get(outcome, outcome)
        query = query.where(
            (BatchRow.outcome == outcome) | (BatchRow.outcome.is_(None) & (BatchRow.plan == plan))
        )
    query = query.order_by(BatchRow.row_number)
    if limit:
        query = query.limit(limit)
    return session.scalars(query).all()


def row_result(row: BatchRow) -> dict:
    return {
        "id": row.id,
        "row_number": row.row_number,
        "plate": display_plate(row.plate),
        "email": row.email,
        "outcome": row.outcome or row.plan,
        "reason": row.reason,
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
            yield [values.get(key, "") for key in _VALUE_KEYS] + [row.reason or ""]

    return xlsx_bytes(lines(), sheet_title="Geweigerd")
