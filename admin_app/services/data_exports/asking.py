"""Asking for an export (R-DR-1): a garage for its customer, Support for any customer (his
one row or the whole person), an Owner for himself. Asked twice, the one being made is
the answer; the build is queued after commit. The requester's page finds his export
again while it waits.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden, NotFound
from admin_app.models import Customer, DataExport
from admin_app.models.data_exports import BUILDING, FAILED, GARAGE_CUSTOMER, PERSON
from admin_app.roles import ADMIN, GARAGE, OWNER, SUPPORT
from admin_app.services.audit import Actor, record_bulk

LIFETIME = dt.timedelta(days=7)
# A build claimed longer ago than this was lost with its worker: another may take it.
STALE_AFTER = dt.timedelta(hours=1)
AUDIT_TABLE = "data_export"


def request_customer_export(
    session: Session, customer_id, *, actor: Actor, whole_person: bool, now: dt.datetime
) -> DataExport:
    """A garage's export of its own customer, or Support's of any customer (the one row,
    or with ``whole_person`` every garage's row with his e-mail). The customer is read
    through the caller's row scope: another garage's customer is NotFound. Flushes, audits,
    queues the build after commit."""
    from admin_app.scope import scoped_get

    if not actor.has(GARAGE, SUPPORT, ADMIN):
        raise Forbidden(_l("You may not export a customer's data."))
    customer = scoped_get(session, Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Not found."))
    wide = whole_person and may_export_person(actor)
    return _start(
        session,
        DataExport(
            requested_by_id=actor.id,
            customer_id=customer.id,
            garage_id=None if wide else customer.garage_id,
            scope=PERSON if wide else GARAGE_CUSTOMER,
        ),
        actor=actor,
        now=now,
    )


def may_export_person(actor: Actor) -> bool:
    """Only the support desk answers a person for every garage; a garage speaks for
    its own customer."""
    return actor.has(SUPPORT, ADMIN)


def request_own_export(session: Session, *, actor: Actor, now: dt.datetime) -> DataExport:
    """An Owner's export of himself: every garage where his e-mail is a customer."""
    if not actor.has(OWNER) or not actor.email:
        raise Forbidden(_l("You may not export a customer's data."))
    return _start(
        session,
        DataExport(requested_by_id=actor.id, owner_user_id=actor.id, scope=PERSON),
        actor=actor,
        now=now,
    )


def _start(session: Session, export: DataExport, *, actor: Actor, now: dt.datetime):
    from admin_app.queueing import enqueue_after_commit

    waiting = _being_made(session, export, now)
    if waiting is not None:
        return waiting
    export.state, export.progress = BUILDING, 0
    export.created_at, export.expires_at = now, now + LIFETIME
    session.add(export)
    session.flush()
    record_bulk(
        session,
        actor,
        AUDIT_TABLE,
        [("insert", export.id, {"scope": (None, export.scope), **audited_ids(export)})],
        garage_id=export.garage_id,
    )
    enqueue_after_commit(session, "admin_app.jobs.data_exports.build_data_export", export.id)
    return export


def _being_made(session: Session, export: DataExport, now: dt.datetime) -> DataExport | None:
    """The requester's export of the same person and width still being made, if any: asked
    again (a double click, a script in a loop) he gets that one, and the worker builds one
    ZIP rather than one per ask. A build lost longer than STALE_AFTER is not waited for."""
    same = (
        DataExport.customer_id == export.customer_id
        if export.customer_id is not None
        else DataExport.owner_user_id == export.owner_user_id
    )
    return session.scalars(
        select(DataExport)
        .where(
            DataExport.requested_by_id == export.requested_by_id,
            same,
            DataExport.scope == export.scope,
            DataExport.state == BUILDING,
            DataExport.created_at > now - STALE_AFTER,
        )
        .order_by(DataExport.id.desc())
    ).first()


def audited_ids(export: DataExport) -> dict:
    """Whom the export is about, as its audit rows name him: ids only."""
    if export.customer_id:
        return {"customer_id": (None, export.customer_id)}
    return {"owner_user_id": (None, export.owner_user_id)}


def open_export(
    session: Session,
    *,
    user_id: int,
    now: dt.datetime,
    customer_id: int | None = None,
    owner_user_id: int | None = None,
) -> DataExport | None:
    """The user's latest export about this customer (or, an Owner's, himself) that is not
    failed nor past its days: the page he left says the file waits, so his page leads back."""
    about = (
        DataExport.customer_id == customer_id
        if customer_id is not None
        else DataExport.owner_user_id == owner_user_id
    )
    return session.scalars(
        select(DataExport)
        .where(
            DataExport.requested_by_id == user_id,
            about,
            DataExport.state != FAILED,
            DataExport.expires_at > now,
        )
        .order_by(DataExport.id.desc())
    ).first()
