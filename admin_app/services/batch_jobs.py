"""Customer-list batch jobs (R-BJ-2…6): preview, confirm for the night, run in chunks.

A job works set-based, a chunk of rows at a time: a few queries and bulk writes per chunk,
never one per row. Each chunk commits its passports, customers, audit rows, outbox rows
and row outcomes together, so a killed worker resumes after the last committed chunk and
a second run of the same file only finds `unchanged` rows.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from admin_app.models import (
    AccessToken,
    BatchJob,
    BatchRow,
    Customer,
    Garage,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.models.batch_jobs import BatchState
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.audit import Actor, record_bulk
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
PASSPORT_FIELDS = ("brand", "model", "apk_expiry")


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


# --- planning rows against the database ----------------------------------------------------


@dataclass
class Plan:
    plan: str
    reason: str | None = None
    passport: Passport | None = None


def plan_rows(session: Session, garage_id: int, rows: list) -> list[Plan]:
    """What each row would do now. ``rows`` carry .plate, .email, .values and .reason."""
    valid = [r for r in rows if not r.reason]
    plates = [r.plate for r in valid]
    live = {}
    for start in range(0, len(plates), CHUNK):
        for passport in session.scalars(
            select(Passport)
            .where(
                Passport.plate.in_(plates[start : start + CHUNK]),
                Passport.state != PassportState.archived.value,
            )
            .execution_options(**{ALL_TENANTS: True})
        ).unique():
            live[passport.plate] = passport
    transferred = _transferred(session, [p.id for p in live.values() if p.garage_id == garage_id])
    plans = []
    for row in rows:
        if row.reason:
            plans.append(Plan("refused", row.reason))
            continue
        passport = live.get(row.plate)
        if passport is None:
            plans.append(Plan("create"))
        elif passport.garage_id != garage_id:
            plans.append(
                Plan("refused", str(_l("The plate has an active passport at another garage.")))
            )
        elif email_key(passport.owner.email) != email_key(row.email) and (
            passport.state in (PassportState.activated.value, PassportState.transfer_pending.value)
            or passport.id in transferred
        ):
            plans.append(
                Plan(
                    "refused",
                    str(
                        _l(
                            "The passport is activated or transferred: "
                            "its e-mail can only be changed by the "
                            "support desk."
                        )
                    ),
                    passport,
                )
            )
        elif _differs(passport, row.values):
            plans.append(Plan("update", None, passport))
        else:
            plans.append(Plan("unchanged", None, passport))
    return plans


def _transferred(session: Session, passport_ids: list[int]) -> set[int]:
    if not passport_ids:
        return set()
    return set(
        session.scalars(
            select(Transfer.passport_id)
            .where(
                Transfer.passport_id.in_(passport_ids),
                Transfer.kind == "owner",
                Transfer.state == TransferState.accepted.value,
            )
            .execution_options(**{ALL_TENANTS: True})
        )
    )


def _differs(passport: Passport, values: dict) -> bool:
    if email_key(passport.owner.email) != email_key(values.get("email", "")):
        return True
    for name in PASSPORT_FIELDS:
        if name in values and _plain(getattr(passport, name)) != _plain(values[name]):
            return True
    return any(
        name in values and (getattr(passport.owner, name) or "") != values[name]
        for name in CONTACT_FIELDS
    )


def _plain(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else (value or "")


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
        counts=_counts([]),
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

    rows = check_rows(read_list(job.filename, job.upload), progress=progress)
    _store_preview(session, job, rows)
    job.upload = None
    job.done_rows = 0
    job.state = BatchState.preview.value
    session.commit()
    return job


def _store_preview(session: Session, job: BatchJob, rows: list) -> None:
    plans = plan_rows(session, job.garage_id, rows)
    job.total_rows = len(rows)
    job.counts = _counts(p.plan for p in plans)
    session.execute(
        insert(BatchRow.__table__),
        [
            {
                "batch_job_id": job.id,
                "row_number": row.row_number,
                "plate": row.plate,
                "email": row.email,
                "values": _json_values(row.values),
                "plan": plan.plan,
                "reason": plan.reason,
            }
            for row, plan in zip(rows, plans, strict=True)
        ],
    )


def _counts(plans) -> dict:
    counted = Counter(plans)
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
    while True:
        rows = session.scalars(
            select(BatchRow)
            .where(BatchRow.batch_job_id == job.id, BatchRow.outcome.is_(None))
            .order_by(BatchRow.row_number)
            .limit(chunk_size)
        ).all()
        if not rows:
            break
        _apply_chunk(session, job, garage, rows, actor, base_url)
        job.done_rows = session.scalar(
            select(func.count())
            .select_from(BatchRow)
            .where(BatchRow.batch_job_id == job.id, BatchRow.outcome.is_not(None))
        )
        job.heartbeat_at = utcnow()
        session.commit()
    outcomes = Counter(
        session.scalars(select(BatchRow.outcome).where(BatchRow.batch_job_id == job.id))
    )
    job.counts = {
        "create": outcomes.get("created", 0),
        "update": outcomes.get("updated", 0),
        "unchanged": outcomes.get("unchanged", 0),
        "refused": outcomes.get("refused", 0),
    }
    job.state = BatchState.done.value
    job.finished_at = utcnow()
    session.commit()
    return job


@dataclass
class _Row:
    """A stored row seen as a ListRow (for plan_rows)."""

    stored: BatchRow
    values: dict
    reason: str | None = None

    @property
    def plate(self) -> str:
        return self.stored.plate

    @property
    def email(self) -> str:
        return self.stored.email


def _apply_chunk(
    session: Session,
    job: BatchJob,
    garage: Garage,
    stored: list[BatchRow],
    actor: Actor,
    base_url: str,
) -> None:
    rows = [_Row(r, _typed(r.values), r.reason if r.plan == "refused" else None) for r in stored]
    plans = plan_rows(session, job.garage_id, rows)
    customers = _customers_for(
        session,
        job.garage_id,
        [r for r, p in zip(rows, plans, strict=True) if p.plan in ("create", "update")],
        actor,
    )
    now = utcnow()
    new_passports, audit_updates = [], []
    for row, plan in zip(rows, plans, strict=True):
        if plan.plan == "create":
            customer_id = customers[email_key(row.email)]
            stock = email_key(row.email) == email_key(garage.email)
            new_passports.append(
                {
                    "garage_id": job.garage_id,
                    "plate": row.plate,
                    "owner_id": customer_id,
                    "brand": row.values.get("brand"),
                    "model": row.values.get("model"),
                    "apk_expiry": row.values.get("apk_expiry"),
                    "stock_car": stock,
                    "state": PassportState.activated.value
                    if stock
                    else PassportState.created.value,
                    "activated_at": now if stock else None,
                    "created_via": "list",
                    "created_at": now,
                }
            )
        elif plan.plan == "update":
            passport = plan.passport
            changes = {}
            new_owner = customers[email_key(row.email)]
            if new_owner != passport.owner_id:
                changes["owner_id"] = (passport.owner_id, new_owner)
            for name in PASSPORT_FIELDS:
                if name in row.values and _plain(getattr(passport, name)) != _plain(
                    row.values[name]
                ):
                    changes[name] = (getattr(passport, name), row.values[name])
            if changes:
                session.execute(
                    update(Passport)
                    .where(Passport.id == passport.id)
                    .values({k: new for k, (_, new) in changes.items()})
                    .execution_options(synchronize_session=False)
                )
                audit_updates.append(("update", passport.id, changes))
    created = {}
    if new_passports:
        table = Passport.__table__
        result = session.execute(insert(table).returning(table.c.id, table.c.plate), new_passports)
        created = {plate: passport_id for passport_id, plate in result}
        record_bulk(
            session,
            actor,
            "passport",
            [
                (
                    "insert",
                    created[p["plate"]],
                    {k: (None, v) for k, v in p.items() if v is not None},
                )
                for p in new_passports
            ],
            garage_id=job.garage_id,
        )
    if audit_updates:
        record_bulk(session, actor, "passport", audit_updates, garage_id=job.garage_id)
    if job.send_to_customers and created:
        _queue_activation_mails(
            session,
            job,
            garage,
            [(created[p["plate"]], p) for p in new_passports if not p["stock_car"]],
            base_url,
        )
    # One UPDATE per (outcome, reason, passport known) group instead of one per row.
    groups: dict[tuple, list[int]] = {}
    linked: dict[int, int] = {}
    for row, plan in zip(rows, plans, strict=True):
        outcome = {"create": "created", "update": "updated"}.get(plan.plan, plan.plan)
        groups.setdefault((outcome, plan.reason), []).append(row.stored.id)
        passport_id = created.get(row.plate) or (plan.passport.id if plan.passport else None)
        if passport_id:
            linked[row.stored.id] = passport_id
    for (outcome, reason), ids in groups.items():
        session.execute(
            update(BatchRow)
            .where(BatchRow.id.in_(ids))
            .values(outcome=outcome, reason=reason)
            .execution_options(synchronize_session=False)
        )
    if linked:
        # The passport of each row, looked up by plate in the same statement.
        session.execute(
            update(BatchRow)
            .where(BatchRow.id.in_(list(linked)))
            .values(
                passport_id=select(Passport.id)
                .where(
                    Passport.plate == BatchRow.plate,
                    Passport.garage_id == job.garage_id,
                    Passport.state != PassportState.archived.value,
                )
                .scalar_subquery()
            )
            .execution_options(synchronize_session=False)
        )


def _typed(values: dict) -> dict:
    typed = dict(values)
    if typed.get("apk_expiry"):
        typed["apk_expiry"] = dt.date.fromisoformat(typed["apk_expiry"])
    return typed


def _customers_for(session: Session, garage_id: int, rows: list, actor: Actor) -> dict[str, int]:
    """Customer id per e-mail key, creating the missing customers in one INSERT."""
    keys = {email_key(r.email): r for r in rows}
    found = {}
    key_list = list(keys)
    for start in range(0, len(key_list), CHUNK):
        for customer_id, email in session.execute(
            select(Customer.id, Customer.email)
            .where(
                Customer.garage_id == garage_id,
                func.lower(Customer.email).in_(key_list[start : start + CHUNK]),
            )
            .order_by(Customer.id)
            .execution_options(**{ALL_TENANTS: True})
        ):
            found.setdefault(email_key(email), customer_id)
    missing = [
        {
            "garage_id": garage_id,
            "email": row.email,
            "created_at": utcnow(),
            **{name: row.values.get(name) for name in CONTACT_FIELDS},
        }
        for key, row in keys.items()
        if key not in found
    ]
    if missing:
        # Core, one multi-row INSERT per thousand rows; the ORM's RETURNING path sent one
        # statement per row here.
        table = Customer.__table__
        inserted = list(
            session.execute(insert(table).returning(table.c.id, table.c.email), missing)
        )
        for customer_id, email in inserted:
            found[email_key(email)] = customer_id
        by_key = {email_key(m["email"]): m for m in missing}
        record_bulk(
            session,
            actor,
            "customer",
            [
                (
                    "insert",
                    customer_id,
                    {k: (None, v) for k, v in by_key[email_key(email)].items() if v},
                )
                for customer_id, email in inserted
            ],
            garage_id=garage_id,
        )
    return found


def _queue_activation_mails(
    session: Session,
    job: BatchJob,
    garage: Garage,
    passports: list[tuple[int, dict]],
    base_url: str,
) -> None:
    """R-BJ-3: "send the passports" — tokens and mails for the whole chunk at once."""
    if not passports:
        return
    now = utcnow()
    tokens, mails = [], []
    owners = dict(
        session.execute(
            select(Customer.id, Customer.email).where(
                Customer.id.in_([p["owner_id"] for _, p in passports])
            )
        ).all()
    )
    with force_locale("nl"):
        for passport_id, passport in passports:
            raw = secrets.token_urlsafe(32)
            tokens.append(
                {
                    "purpose": ACTIVATION,
                    "token_hash": _hash(raw),
                    "subject_id": passport_id,
                    "expires_at": now + ACTIVATION_TTL,
                    "created_at": now,
                }
            )
            plate = display_plate(passport["plate"])
            mails.append(
                {
                    "garage_id": garage.id,
                    "recipient": owners[passport["owner_id"]],
                    "kind": "activation",
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "subject": str(
                        _l(
                            "Your AutoPassport for %(plate)s from %(garage)s",
                            plate=plate,
                            garage=garage.name,
                        )
                    ),
                    "body": str(
                        _l(
                            "Dear customer,\n\n%(garage)s made a digital vehicle passport "
                            "for your car %(plate)s. Activate it and choose your password "
                            "within 7 days:\n\n%(link)s\n\nThe link works once.\n",
                            garage=garage.name,
                            plate=plate,
                            link=f"{base_url.rstrip('/')}/activate/{raw}",
                        )
                    ),
                }
            )
    session.execute(insert(AccessToken.__table__), tokens)
    session.execute(insert(OutboxMessage.__table__), mails)
    session.execute(
        update(Passport)
        .where(Passport.id.in_([pid for pid, _ in passports]))
        .values(state=PassportState.sent.value, sent_at=now)
        .execution_options(synchronize_session=False)
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
            values = dict(row.values or {})
            if values.get("apk_expiry"):
                try:
                    values["apk_expiry"] = dt.date.fromisoformat(values["apk_expiry"]).strftime(
                        "%d-%m-%Y"
                    )
                except ValueError:
                    pass
            values["plate"] = display_plate(values.get("plate") or row.plate)
            yield [values.get(key, "") for key in _VALUE_KEYS] + [row.reason or ""]

    return xlsx_bytes(lines(), sheet_title="Geweigerd")
