"""The one writer of audit rows (R-SEC-2), in the transaction of the change it records.

- ORM changes: the ``after_flush`` listener ``record_flush`` (installed by ``install``),
  one row per inserted, updated or deleted record, through a Core insert on the flush's
  connection — so no view or service can forget it.
- Bulk writes that bypass the ORM: ``record_bulk`` with the changes they made, or, when
  the rows never pass through Python, ``record_select`` with a SELECT the database turns
  into audit rows (services/bulk builds its JSON).
Secrets are masked alike in all three (``is_secret``).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable

from sqlalchemy import Integer, Select, event, insert, inspect, literal
from sqlalchemy.orm import Session

from admin_app.models import (
    ApiKey,
    AuditLog,
    CalendarFeed,
    ConsoleUser,
    Customer,
    FleetAccount,
    Garage,
    InspectionForm,
    Passport,
    PerformedWork,
    Transfer,
    WebhookEndpoint,
)
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.services.audit.actors import Actor, get_actor

AUDITED = {
    Garage: "garage",
    Customer: "customer",
    Passport: "passport",
    FleetAccount: "fleet_account",
    ConsoleUser: "user",
    Transfer: "transfer",
    InspectionForm: "inspection_form",
    PerformedWork: "performed_work",
    ApiKey: "api_key",
    WebhookEndpoint: "webhook_endpoint",
    CalendarFeed: "calendar_feed",  # issue 18: a subscriber's secret calendar address
}
# Secrets never enter the log; bookkeeping fields would only drown the real changes.
NEVER_LOGGED = {"password", "token_hash", "token", "secret", "key_hash"}
NEVER_LOGGED |= {"secret_encrypted", "previous_secret_encrypted"}  # webhooks (issue 16)
NOT_WORTH_LOGGING = {"last_login", "login_count", "fail_login_count", "changed_on", "created_on"}
NOT_WORTH_LOGGING |= {"last_fetched_at"}  # a calendar app's polls (issue 18)
# A form's content is kept whole in each of its versions; the log would only repeat it.
NOT_WORTH_LOGGING |= {"content"}


def is_secret(field: str) -> bool:
    """A field whose values the log masks as "***" (and the history never shows)."""
    return field in NEVER_LOGGED or "token" in field


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _changes(obj, action: str) -> dict:
    state = inspect(obj)
    changes = {}
    for column in state.mapper.column_attrs:
        key = column.key
        if key in NOT_WORTH_LOGGING:
            continue
        history = state.attrs[key].history
        if action == "insert":
            old, new = None, getattr(obj, key)
        elif action == "delete":
            old, new = getattr(obj, key), None
        else:
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
        if old is None and new is None or old == new:
            continue
        changes[key] = logged_pair(key, old, new)
    return changes


def logged_pair(field: str, old, new) -> list:
    """A field's [old, new] as the log keeps it: plain JSON values, a secret as "***"."""
    if is_secret(field):
        return ["***" if old is not None else None, "***" if new is not None else None]
    return [_plain(old), _plain(new)]


def audit_row(
    actor: Actor,
    action: str,
    table: str,
    record_id: int | None,
    *,
    garage_id: int | None,
    passport_id: int | None,
    changes: dict,
    at: dt.datetime | None = None,
) -> dict:
    """One audit_log row (R-SEC-2), as every writer here inserts it: the ORM listener,
    record_bulk, and (built by the database) record_select."""
    return {
        "at": at or utcnow(),
        "actor_id": actor.id,
        "actor_name": actor.name,
        "action": action,
        "table_name": table,
        "record_id": record_id,
        "garage_id": garage_id,
        "passport_id": passport_id,
        "changes": changes,
    }


def _record_for(obj, action: str, actor: Actor) -> dict | None:
    table = next((name for cls, name in AUDITED.items() if isinstance(obj, cls)), None)
    if table is None:
        return None
    changes = _changes(obj, action)
    if action == "update" and not changes:
        return None
    return audit_row(
        actor,
        action,
        table,
        obj.id,
        garage_id=obj.id if isinstance(obj, Garage) else getattr(obj, "garage_id", None),
        passport_id=obj.id if isinstance(obj, Passport) else getattr(obj, "passport_id", None),
        changes=changes,
    )


def record_flush(session: Session, flush_context) -> None:
    """The ``after_flush`` listener: one audit row per record the flush inserted, changed
    (a real change of a logged field) or deleted, by the session's actor."""
    actor = get_actor(session)
    rows = []
    for action, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            row = _record_for(obj, action, actor)
            if row:
                rows.append(row)
    if rows:
        # Core insert: the ORM forbids session.add() while a flush is executing.
        session.connection().execute(insert(AuditLog.__table__), rows)


def record_bulk(
    session: Session,
    actor: Actor,
    table: str,
    changes: Iterable[tuple[str, int | None, dict]],
    *,
    garage_id: int | None = None,
    passport_ids: dict[int, int] | None = None,
) -> int:
    """Log changes made without ORM events, in the caller's transaction.

    ``changes`` yields (action, record_id, {field: (old, new)}), the record id None for an
    entry about no one record (an import, a run); secrets are masked as they are for ORM
    changes. Returns the number of rows written (one INSERT for all).
    """
    now = utcnow()
    rows = [
        audit_row(
            actor,
            action,
            table,
            record_id,
            garage_id=garage_id,
            passport_id=record_id
            if table == "passport" or record_id is None
            else (passport_ids or {}).get(record_id),
            changes={key: logged_pair(key, old, new) for key, (old, new) in fields.items()},
            at=now,
        )
        for action, record_id, fields in changes
    ]
    if rows:
        session.execute(insert(AuditLog.__table__), rows)
    return len(rows)


def record_select(
    session: Session, actor: Actor, action: str, table: str, records: Select, *, at: dt.datetime
) -> int:
    """Audit rows written by one INSERT … SELECT: ``records`` selects (record id, garage
    id, passport id, changes as a JSON object) per changed record, before the statement
    that changes them (services/bulk builds the JSON in SQL). Returns the rows written."""
    # admin_app.db imports this package (for the actor), so its helper is read here.
    from admin_app.db import changed_rows
    from admin_app.scope import ALL_TENANTS  # scope imports the models this module does

    records = records.add_columns(
        literal(at, UTCDateTime),
        literal(actor.id, Integer),
        literal(actor.name),
        literal(action),
        literal(table),
    )
    return changed_rows(
        session.execute(
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
    )


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_flush", record_flush):
        event.listen(session_class, "after_flush", record_flush)
