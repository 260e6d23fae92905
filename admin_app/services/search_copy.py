"""The counter's search copy (models/search.py), kept equal to what it copies.

Who writes it:
- Every change through the ORM: the ``after_flush`` listener ``copy_flush`` (installed by
  ``install``) copies each new customer and passport, and each changed last name, e-mail
  and plate, in the transaction of the change.
- A change without ORM events calls ``recopy_customers`` in the transaction of the change
  (the importer's update of its existing customers' contact data).
- The importer's new customers and passports are copied after its run is done, not in its
  chunks' transactions (issue 20: their trigram upkeep was 1.2 s of a 100,000-row list's
  6–7 s): ``copy_after_run``, by the batch job as soon as it is done and by the clock for a
  run whose worker was lost first. Until then (2.5 s after a 100,000-row list is done)
  Support's search does not find them; the issue asks for within a minute.

Values are copied by the database from the rows themselves (its lower(), as the search
compares), never from Python's idea of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    event,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute, Session, attributes

from admin_app.domain.plates import plate_part, side_code
from admin_app.models import BatchJob, Customer, CustomerSearch, Passport, PassportSearch
from admin_app.models.batch_jobs import BatchState
from admin_app.models.types import PlateType
from admin_app.scope import ALL_TENANTS
from admin_app.services.bulk import insert_on_conflict

# A run's own job copies as it ends; the clock takes over a run ended this long ago and
# still not copied (its worker died first), or one whose worker has not beaten this long
# (a chunk beats as it commits, seconds apart: it died inside the run). Under the clock's
# 30 s tick, so a lost run is searchable within a minute of its end or its last chunk.
LOST_AFTER = timedelta(seconds=20)
ENDED = (BatchState.done.value, BatchState.failed.value, BatchState.cancelled.value)

# --- Reading it ------------------------------------------------------------------------------


def customers_matching(
    pattern: str, escape: str, *, fields: tuple[str, ...] = ("last_name", "email")
) -> Select:
    """The ids of customers whose last name or e-mail (``fields``) matches the LIKE
    ``pattern`` (lower case); reached through Customer, so the scope applies. A set of
    its own, never correlated with a query it is put in."""
    condition = or_(
        *(getattr(CustomerSearch, name).like(pattern, escape=escape) for name in fields)
    )
    return (
        select(Customer.id)
        .join(CustomerSearch, CustomerSearch.customer_id == Customer.id)
        .where(condition)
        .correlate(None)
    )


def passports_matching(plate: str) -> Select:
    """The ids of passports whose plate holds the normalized part ``plate`` (R-PP-2: see
    ``plate_part``), or is that whole plate; reached through Passport, so the scope
    applies. Never correlated, as above."""
    if side_code(plate) is not None:
        # A whole plate, as a whole e-mail (views/passports): on passport's own plate index,
        # so the counter finds a car a customer list's run has written before that run's
        # copy (seconds to minutes). Every stored plate has its six characters
        # (validate_plate), so equality finds what "anywhere in it" would.
        return select(Passport.id).where(Passport.plate == plate).correlate(None)
    pattern = plate_part(plate)
    if not pattern.startswith("%"):
        # One or two characters, a plate's start: passport's own prefix index (0007).
        return select(Passport.id).where(Passport.plate.like(pattern)).correlate(None)
    return plates_like(pattern)


def plates_like(pattern: str) -> Select:
    """The ids of passports whose plate matches the ILIKE ``pattern``, normalized as a plate
    column normalizes it (``PlateType``: the API's "starts with" and "contains" filters
    accept any notation); through Passport, never correlated, as above."""
    return (
        select(Passport.id)
        .join(PassportSearch, PassportSearch.passport_id == Passport.id)
        .where(PassportSearch.plate.ilike(literal(pattern, PlateType)))
        .correlate(None)
    )


# --- Writing it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copied:
    """A table the copy follows: its rows' ``id`` → the copy's ``key``, and each copied
    column as the database computes it."""

    parent: type[Customer] | type[Passport]
    copy: type[CustomerSearch] | type[PassportSearch]
    key: str
    columns: dict[str, ColumnElement | InstrumentedAttribute]

    def missing(self) -> ColumnElement[bool]:
        return ~exists().where(getattr(self.copy, self.key) == self.parent.id)


CUSTOMERS = Copied(
    Customer,
    CustomerSearch,
    "customer_id",
    {"last_name": func.lower(Customer.last_name), "email": func.lower(Customer.email)},
)
PASSPORTS = Copied(Passport, PassportSearch, "passport_id", {"plate": Passport.plate})


def _copy(connection: Connection, copied: Copied, which, *, replace: bool) -> None:
    """The ``parent`` rows ``which`` selects, into their copy: ``replace`` an older copy,
    or leave one that is there (a change made it, so it is newer)."""
    # In id order, as every writer of the copy inserts: two (a run's copy, another run's
    # chunk re-copying the same new customers) then wait for each other, never deadlock.
    source = select(copied.parent.id, *copied.columns.values()).where(which)
    statement = insert_on_conflict(connection.dialect.name, copied.copy).from_select(
        [copied.key, *copied.columns], source.order_by(copied.parent.id)
    )
    if replace:
        statement = statement.on_conflict_do_update(
            index_elements=[copied.key],
            set_={name: statement.excluded[name] for name in copied.columns},
            # An equal copy is not written again (nor its trigrams).
            where=or_(
                *(getattr(copied.copy, name) != statement.excluded[name] for name in copied.columns)
            ),
        )
    else:
        statement = statement.on_conflict_do_nothing()
    connection.execute(statement.execution_options(**{ALL_TENANTS: True}))


def recopy_customers(session: Session, ids: Select) -> None:
    """The customers ``ids`` (a SELECT of ids) copied again, in the caller's transaction:
    for a change made without ORM events."""
    _copy(session.connection(), CUSTOMERS, Customer.id.in_(ids), replace=True)


def copy_after_run(session: Session, job: BatchJob, now: datetime) -> None:
    """The customers and passports of ``job``'s garage that have no copy yet (the ones
    its run created) copied, and the job marked searchable. Safe to run twice, and beside
    other writers: a copy made meanwhile by a change is newer and stays. A run still
    `running` (its worker stopped beating, ``runs_to_copy``) is copied as far as its chunks
    committed and not marked: what it writes when it is taken over is copied when it ends."""
    connection = session.connection()
    for copied in (CUSTOMERS, PASSPORTS):
        which = (copied.parent.garage_id == job.garage_id) & copied.missing()
        _copy(connection, copied, which, replace=False)
    if job.state == BatchState.running.value:
        return
    session.execute(
        update(BatchJob)
        .where(BatchJob.id == job.id)
        .values(searchable_at=now)
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    )


def runs_to_copy(session: Session, now: datetime) -> list[BatchJob]:
    """The runs the clock copies: ended ones whose copy their worker did not make (lost
    first), and running ones whose worker stopped beating (died inside the run). Those
    stay `running` until another worker takes them over, BATCH_STALE_SECONDS (10 minutes)
    later: the customers their committed chunks created are found within a minute, as
    before issue 20, not then. Copied again each tick while stalled (nothing new to copy)."""
    ended = (
        BatchJob.state.in_(ENDED)
        & BatchJob.started_at.is_not(None)
        & BatchJob.searchable_at.is_(None)
        & (BatchJob.finished_at.is_(None) | (BatchJob.finished_at < now - LOST_AFTER))
    )
    stalled = (BatchJob.state == BatchState.running.value) & (
        BatchJob.heartbeat_at < now - LOST_AFTER
    )
    return list(
        session.scalars(
            select(BatchJob)
            .where(ended | stalled)
            .order_by(BatchJob.id)
            .execution_options(**{ALL_TENANTS: True})
        )
    )


# --- The ORM's changes -----------------------------------------------------------------------


def _changed(obj, names: Iterable[str]) -> bool:
    state = attributes.instance_state(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def copy_flush(session: Session, flush_context) -> None:
    """The ``after_flush`` listener: new customers and passports copied, those whose
    copied fields this flush changed copied again, and a deleted one's copy deleted (its
    foreign key cascades on PostgreSQL; SQLite is not asked to enforce foreign keys)."""
    connection = session.connection()
    for copied in (CUSTOMERS, PASSPORTS):
        parent, key = copied.parent, getattr(copied.copy, copied.key)
        gone = [obj.id for obj in session.deleted if isinstance(obj, parent)]
        if gone:
            connection.execute(delete(copied.copy).where(key.in_(gone)))
        changed = {obj.id for obj in session.new if isinstance(obj, parent)} | {
            obj.id
            for obj in session.dirty
            if isinstance(obj, parent) and _changed(obj, copied.columns)
        }
        if changed:
            _copy(connection, copied, parent.id.in_(changed), replace=True)


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_flush", copy_flush):
        event.listen(session_class, "after_flush", copy_flush)
