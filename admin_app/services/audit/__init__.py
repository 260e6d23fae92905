"""The audit log (R-SEC-2): every insert, update and delete, in the same transaction.

ORM changes are recorded by a flush listener, so no view or service can forget them.
Bulk writes that bypass the ORM call ``record_bulk`` with the changes they made, or, when
the changed rows never pass through Python (the importer's upserts, the weekly next
service dates, bounce marks), ``record_select`` with a SELECT that the database turns
into audit rows, in the transaction that made them.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, event, insert, inspect, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import sqltypes

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


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person (with the roles and tenant links rules look at) or a job."""

    id: int | None
    name: str
    roles: frozenset[str] = frozenset()
    garage_id: int | None = None
    fleet_account_id: int | None = None
    email: str | None = None

    @classmethod
    def of_user(cls, user) -> Actor:
        return cls(
            user.id,
            user.username,
            roles=frozenset(role.name for role in user.roles),
            garage_id=user.garage_id,
            fleet_account_id=user.fleet_account_id,
            email=(user.email or "").lower() or None,
        )

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @classmethod
    def of_api_key(cls, key, user) -> Actor:
        """A management system calling with an API key (issue 16): its service login's
        roles and garage, named after the key ("API key <name>" in the log)."""
        return cls(
            user.id,
            f"{API_KEY_ACTOR}{key.name}",
            roles=frozenset(role.name for role in user.roles),
            garage_id=key.garage_id,
        )

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(None, f"job:{name}")


SYSTEM_ACTOR = Actor(None, "systeem")
# How the log stores an API key's actions: "api-key:<name>", read as "API key <name>".
API_KEY_ACTOR = "api-key:"

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


def set_actor(session: Session, actor: Actor) -> None:
    session.info["actor"] = actor


def get_actor(session: Session) -> Actor:
    return session.info.get("actor", SYSTEM_ACTOR)


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
        if key in NEVER_LOGGED or "token" in key:
            changes[key] = ["***" if old is not None else None, "***" if new is not None else None]
            continue
        changes[key] = [_plain(old), _plain(new)]
    return changes


def _record_for(obj, action: str, actor: Actor) -> dict | None:
    table = next((name for cls, name in AUDITED.items() if isinstance(obj, cls)), None)
    if table is None:
        return None
    changes = _changes(obj, action)
    if action == "update" and not changes:
        return None
    garage_id = obj.id if isinstance(obj, Garage) else getattr(obj, "garage_id", None)
    return {
        "at": utcnow(),
        "actor_id": actor.id,
        "actor_name": actor.name,
        "action": action,
        "table_name": table,
        "record_id": obj.id,
        "garage_id": garage_id,
        "passport_id": obj.id if isinstance(obj, Passport) else getattr(obj, "passport_id", None),
        "changes": changes,
    }


def _after_flush(session: Session, flush_context) -> None:
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
    changes: Iterable[tuple[str, int, dict]],
    *,
    garage_id: int | None = None,
    passport_ids: dict[int, int] | None = None,
) -> int:
    """Log changes made without ORM events, in the caller's transaction.

    ``changes`` yields (action, record_id, {field: (old, new)}); secrets are masked as
    they are for ORM changes. Returns the number of rows written (one INSERT for all).
    """
    now = utcnow()
    rows = []
    for action, record_id, fields in changes:
        clean = {
            key: (
                ["***", "***"]
                if key in NEVER_LOGGED or "token" in key
                else [_plain(old), _plain(new)]
            )
            for key, (old, new) in fields.items()
        }
        rows.append(
            {
                "at": now,
                "actor_id": actor.id,
                "actor_name": actor.name,
                "action": action,
                "table_name": table,
                "record_id": record_id,
                "garage_id": garage_id,
                "passport_id": record_id
                if table == "passport"
                else (passport_ids or {}).get(record_id),
                "changes": clean,
            }
        )
    if rows:
        session.execute(insert(AuditLog.__table__), rows)
    return len(rows)


def record_select(
    session: Session, actor: Actor, action: str, table: str, records: Select, *, at: dt.datetime
) -> int:
    """Audit rows written by one INSERT … SELECT: ``records`` selects (record id, garage
    id, passport id, changes as a JSON object) per changed record, before the statement
    that changes them (services/bulk builds the JSON in SQL). Returns the rows written."""
    from admin_app.scope import ALL_TENANTS  # scope imports the models this module does

    records = records.add_columns(
        literal(at, UTCDateTime),
        literal(actor.id, Integer),
        literal(actor.name),
        literal(action),
        literal(table),
    )
    return session.execute(
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
    ).rowcount


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)


# --- the log as a person reads it (issue 14) ------------------------------------------------

# Fields a reader has no use for: keys, bookkeeping times, secrets, internal undo state.
# They stay in the stored log and on the raw page of each entry.
BOOKKEEPING = {
    "id",
    "created_at",
    "updated_at",
    "password",
    "confirmation_key",
    "session_generation",
    "created_by_fk",
    "changed_by_fk",
    "created_by_id",
    "invitation_id",
    "form_id",
    "logo_mimetype",
    "previous_state",
    "previous_stock_car",
    "fleet_linked_at",  # follows the fleet link, which the entry shows (issue 15)
    "service_user_id",  # an API key's own login (issue 16): no person to name
}

# A field holding another record's id, and that record's type.
REFERENCES = {
    "garage_id": Garage,
    "owner_id": Customer,
    "driver_id": Customer,
    "from_customer_id": Customer,
    "to_customer_id": Customer,
    "fleet_account_id": FleetAccount,
    "manager_passport_id": Passport,
    "passport_id": Passport,
    "user_id": ConsoleUser,  # a calendar address's login (issue 18)
    "customer_id": Customer,  # whom a data export is about (issue 19)
    "owner_user_id": ConsoleUser,  # an Owner's export of himself (issue 19)
}


def _field_labels() -> dict[str, dict]:
    from admin_app.services import labels

    passport = labels.PASSPORT_LABELS
    return {
        "garage": labels.GARAGE_LABELS,
        "customer": {**labels.CUSTOMER_LABELS, "garage_id": labels.CUSTOMER_LABELS["garage"]},
        "passport": {
            **passport,
            "garage_id": passport["garage"],
            "owner_id": passport["owner_name"],
            "driver_id": passport["driver"],
            "fleet_account_id": passport["fleet_account"],
            "sent_at": _l("Sent"),
            "activated_at": _l("Activated"),
            "archived_at": _l("Archived"),
        },
        "fleet_account": {
            **labels.FLEET_ACCOUNT_LABELS,
            "garage_id": labels.FLEET_ACCOUNT_LABELS["garage"],
            "manager_passport_id": labels.FLEET_ACCOUNT_LABELS["manager_passport"],
        },
        "user": {
            **labels.USER_LABELS,
            "garage_id": labels.USER_LABELS["garage"],
            "fleet_account_id": labels.USER_LABELS["fleet_account"],
        },
        "transfer": {
            **labels.TRANSFER_LABELS,
            "passport_id": passport["plate"],
            "garage_id": passport["garage"],
            "from_customer_id": _l("From"),
            "to_customer_id": _l("To"),
            "reminded_at": _l("Reminder sent"),  # issue 18
        },
        "inspection_form": {
            **labels.INSPECTION_FORM_LABELS,
            "garage_id": passport["garage"],
            "passport_id": _l("Vehicle"),
        },
        "performed_work": labels.PERFORMED_WORK_LABELS,
        "api_key": {
            "name": _l("Name"),
            "prefix": _l("Key"),
            "garage_id": _l("Garage"),
            "revoked_at": _l("Revoked"),
            "last_used_at": _l("Last used"),
        },
        "webhook_endpoint": {
            "garage_id": passport["garage"],
            "url": _l("URL"),
            "events": _l("Events"),
            "secret_encrypted": _l("Signing secret"),
            "previous_secret_encrypted": _l("Previous signing secret"),
            "previous_secret_until": _l("Previous secret valid until"),
            "enabled": _l("Switched on"),
            "disabled_at": _l("Switched off"),
            "disabled_reason": _l("Why switched off"),
            "failing_since": _l("Failing since"),
            "created_by_id": _l("Created by"),
            "created_by": _l("Created by"),
        },
        # Issue 18: a vehicle-register file handed to the worker.
        "register_import": {"file": _l("File"), "dataset": _l("Part of the register")},
        # Admin's recall upload, once per file: its counts as the upload's message says them.
        "recall": {
            "file": _l("File"),
            "created": _l("New"),
            "updated": _l("Changed"),
            "unchanged": _l("Unchanged"),
            "refused": _l("Refused"),
        },
        "calendar_feed": {
            "user_id": _l("Login"),
            "revoked_at": _l("Stopped"),
        },
        "data_export": {  # issue 19: a customer's data export asked for, downloaded
            "scope": _l("Covers"),
            "customer_id": _l("Customer"),
            "owner_user_id": _l("Login"),
        },
        "export": {
            "list": _l("List"),
            "filter": _l("Filter"),
            "rows": _l("Rows"),
            "format": _l("Format"),
        },
        # Issue 19: an erase, logged by services/erasure (its values are no one's).
        "erasure": {
            "scope": _l("Erased"),
            "customer_id": _l("Customer"),
            "customers": _l("Customer records erased"),
            "requested_on": _l("Request date"),
            "reason": _l("Reason"),
        },
        # Issue 19: the nightly retention run's counts (services/retention).
        "retention": {
            "lists_cancelled": _l("Customer lists never confirmed, cancelled"),
            "mail_bodies": _l("Mail texts emptied"),
            "batch_rows": _l("Customer-list rows emptied"),
            "links": _l("Mailed links deleted"),
        },
    }


def _value_labels() -> dict[tuple[str, str], dict]:
    from admin_app.models.data_exports import DATA_EXPORT_SCOPE_LABELS
    from admin_app.models.erasures import ERASURE_SCOPE_LABELS
    from admin_app.models.inspections import FORM_KIND_LABELS
    from admin_app.models.passports import CREATED_VIA_LABELS, STATE_LABELS
    from admin_app.models.register import DATASET_LABELS
    from admin_app.models.transfers import TRANSFER_KIND_LABELS, TRANSFER_STATE_LABELS
    from admin_app.services.exports import EXPORT_FORMATS, export_titles

    return {
        ("passport", "state"): STATE_LABELS,
        ("passport", "created_via"): CREATED_VIA_LABELS,
        ("transfer", "state"): TRANSFER_STATE_LABELS,
        ("transfer", "kind"): TRANSFER_KIND_LABELS,
        ("inspection_form", "kind"): FORM_KIND_LABELS,
        ("register_import", "dataset"): DATASET_LABELS,
        ("export", "list"): export_titles(),
        ("data_export", "scope"): DATA_EXPORT_SCOPE_LABELS,
        ("erasure", "scope"): ERASURE_SCOPE_LABELS,
        ("export", "format"): EXPORT_FORMATS,
        ("webhook_endpoint", "disabled_reason"): {
            "failing": _l("no delivery succeeded for 24 hours"),
            "by_user": _l("switched off by the garage"),
        },
    }


# What happened, per record type: created, changed, deleted.
SENTENCES = {
    "garage": (_l("Garage created"), _l("Garage changed"), _l("Garage deleted")),
    "customer": (_l("Customer created"), _l("Customer changed"), _l("Customer deleted")),
    "passport": (_l("Passport created"), _l("Passport changed"), _l("Passport deleted")),
    "fleet_account": (
        _l("Fleet account created"),
        _l("Fleet account changed"),
        _l("Fleet account deleted"),
    ),
    "user": (_l("Login created"), _l("Login changed"), _l("Login deleted")),
    "transfer": (_l("Transfer started"), _l("Transfer changed"), _l("Transfer deleted")),
    "inspection_form": (
        _l("Inspection form created"),
        _l("Inspection form changed"),
        _l("Inspection form deleted"),
    ),
    "performed_work": (
        _l("Performed work noted"),
        _l("Performed work changed"),
        _l("Performed work deleted"),
    ),
    "api_key": (_l("API key created"), _l("API key changed"), _l("API key deleted")),
    "webhook_endpoint": (
        _l("Webhook endpoint registered"),
        _l("Webhook endpoint changed"),
        _l("Webhook endpoint deleted"),
    ),
    "calendar_feed": (
        _l("Calendar address made"),
        _l("Calendar address stopped"),
        _l("Calendar address deleted"),
    ),
}
ACTIONS = ("insert", "update", "delete")
# A customer's data export (issue 19): asked for, and each download — reads that are logged.
DATA_EXPORT_WORDS = {
    "insert": _l("Data export asked for"),
    "download": _l("Data export downloaded"),
}
# Support's erase (issue 19): the entry the confirm step promises, with date and reason.
ERASED = _l("Customer data erased (AVG)")
EXPORTED = _l("List exported")
RETAINED_NO_LONGER = _l("Personal data past its retention period removed")
# Files taken in whole, logged once per file (issue 18).
IMPORTED = {
    # Logged when the file is handed to the worker, which may still refuse it (95%).
    "register_import": _l("Vehicle-register file uploaded"),
    "recall": _l("Recall data imported"),
}
# Fields holding an actor's name as the log writes it ("job:demo-data", "systeem").
ACTOR_FIELDS = {"created_by", "added_by"}
SYSTEM_NAME = _l("System")
UNKNOWN = _l("(unknown)")
A_FILE = _l("(a file)")


def actor_name(name) -> str:
    """An actor's name as stored ("job:demo-data", "systeem") in the reader's words: a job
    or the system reads "System", an API key "API key <name>", a person by the name he had."""
    if name is not None and str(name).startswith(API_KEY_ACTOR):
        return str(_l("API key %(name)s", name=str(name).removeprefix(API_KEY_ACTOR)))
    if name is None or name == SYSTEM_ACTOR.name or str(name).startswith("job:"):
        return str(SYSTEM_NAME)
    return str(name)


def actor_names(session: Session, actors: Iterable[tuple[int | None, str]]) -> dict:
    """For records that keep who made them as (login id, stored name), a transfer: each
    pair named as the history names an entry's actor — the login's name, "System" for a
    job, the stored name for a login the reader may not see. One query for all."""
    actors = list(actors)
    ids = {ident for ident, _ in actors if ident}
    names = _names_of(session, ConsoleUser, ids) if ids else {}
    return {
        (ident, name): (names.get(ident) if ident and not _by_key(name) else None)
        or actor_name(name)
        for ident, name in actors
    }


def _by_key(name) -> bool:
    # An API key's actions are named after the key, not after the login it runs as.
    return name is not None and str(name).startswith(API_KEY_ACTOR)


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str | None  # None: the record had no value (created) or has none now (deleted)
    new: str | None

    def __str__(self) -> str:
        if self.old is None:
            return f"{self.label}: {self.new}"
        if self.new is None:
            return f"{self.label}: {self.old}"
        return f"{self.label}: {self.old} → {self.new}"


@dataclass(frozen=True)
class EntryDescription:
    """One audit entry in words: who did what to which record, field by field."""

    entry: AuditLog
    who: str
    what: str
    subject: str
    changes: tuple[FieldChange, ...]

    @property
    def changes_text(self) -> str:
        return "; ".join(str(change) for change in self.changes)


def describe_entries(
    session: Session, entries: Iterable[AuditLog], locale: str = "nl"
) -> list[EntryDescription]:
    """The entries as sentences in ``locale``: labels as on the screens, times in
    Amsterdam, yes/no, translated states, names for ids; bookkeeping fields left out.

    Ids are named with one query per record type for all entries together, through the
    session's scope: a record the reader may not see (or that is gone) reads "(unknown)".
    The stored entries are not changed."""
    from flask_babel import force_locale

    entries = list(entries)
    names = _NameBook(session, entries)
    field_labels, value_labels = _field_labels(), _value_labels()
    with force_locale(locale):
        return [_describe(entry, names, field_labels, value_labels) for entry in entries]


def _describe(entry, names, field_labels, value_labels) -> EntryDescription:
    labels = field_labels.get(entry.table_name, {})
    model = _logged_model(entry.table_name)
    columns = inspect(model).columns if model is not None else {}
    changes = []
    for field, (old, new) in sorted((entry.changes or {}).items(), key=_screen_order(labels)):
        if _bookkeeping(field):
            continue
        column = columns.get(field) if columns else None
        old_text = _shown(entry, field, column, old, names, value_labels)
        new_text = _shown(entry, field, column, new, names, value_labels)
        if entry.action == "update":
            old_text, new_text = old_text or "—", new_text or "—"
        elif old_text is None and new_text is None:
            continue
        changes.append(FieldChange(str(labels.get(field, field)), old_text, new_text))
    return EntryDescription(
        entry=entry,
        who=names.actor(entry),
        what=_what_happened(entry),
        subject=names.subject(entry),
        changes=tuple(changes),
    )


def _logged_model(table_name: str):
    """The model whose columns type an entry's values, or None for a logged read or run."""
    model = next((cls for cls, name in AUDITED.items() if name == table_name), None)
    if model is None and table_name == "erasure":
        from admin_app.models.erasures import Erasure

        model = Erasure  # logged by hand, not by ORM events: its columns read its dates
    return model


def _shown(entry: AuditLog, field: str, column, value, names, value_labels) -> str | None:
    """One old or new value of a field in words; None when there is none."""
    if value is None or value == "":
        return None
    if field in ACTOR_FIELDS and entry.actor_id and value == entry.actor_name:
        # The user name the record keeps: the entry's actor, named as under Who.
        return names.actor(entry)
    return _value_text(entry.table_name, field, value, column, names, value_labels)


def _what_happened(entry: AuditLog) -> str:
    """The entry's sentence: a record created, changed or deleted, or a logged read, run
    or file."""
    if entry.table_name == "data_export" and entry.action in DATA_EXPORT_WORDS:
        return str(DATA_EXPORT_WORDS[entry.action])
    if entry.table_name == "erasure" and entry.action == "insert":
        return str(ERASED)
    if entry.action == "export":
        return str(EXPORTED)  # a read that is logged (issue 15): no record changed
    if entry.action == "retention":
        return str(RETAINED_NO_LONGER)  # issue 19: one entry per nightly run, its counts
    if entry.action == "import" and entry.table_name in IMPORTED:
        return str(IMPORTED[entry.table_name])
    sentences = SENTENCES.get(entry.table_name)
    if sentences and entry.action in ACTIONS:
        return str(sentences[ACTIONS.index(entry.action)])
    return f"{entry.table_name} {entry.action}"


def _bookkeeping(field: str) -> bool:
    return field in BOOKKEEPING or field in NEVER_LOGGED or "token" in field or "hash" in field


def _screen_order(labels: dict):
    """Fields in the order their screen lists them; others after, by name."""
    order = {key: i for i, key in enumerate(labels)}
    return lambda item: (order.get(item[0], len(order)), item[0])


def _event_words(value) -> str:
    """A webhook endpoint's chosen events (logged as the list's text) in words."""
    import ast

    from admin_app.services.webhooks import event_label

    try:
        events = ast.literal_eval(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError):
        return str(value)
    return ", ".join(event_label(e) for e in events or ())


def _value_text(table, field, value, column, names, value_labels) -> str:
    """A stored value in the reader's words: a name for an id, a label for a state, else
    as its column's type reads on the screens."""
    from admin_app.services.units import kilometres

    if field in REFERENCES:
        return names.name(REFERENCES[field], value)
    if field in ACTOR_FIELDS:
        return actor_name(value)
    if (table, field) == ("webhook_endpoint", "events"):
        return _event_words(value)
    if (table, field) in value_labels:
        return str(value_labels[(table, field)].get(value, value))
    if field == "odometer" and isinstance(value, int):
        return kilometres(value)
    return _typed_text(value, getattr(column, "type", None))


def _typed_text(value, kind) -> str:
    """A plate as written, yes/no, a time or date in Amsterdam, "(a file)"."""
    from admin_app.domain.clock import local_date, local_datetime
    from admin_app.domain.plates import display_plate
    from admin_app.models.types import PlateType

    if isinstance(kind, PlateType):
        return display_plate(str(value))
    if isinstance(kind, sqltypes.TypeDecorator):  # UTCDateTime: an aware DateTime
        kind = kind.impl_instance
    if isinstance(kind, sqltypes.Boolean):
        return str(_l("Yes") if value and value != "0" else _l("No"))
    if isinstance(kind, sqltypes.DateTime) and isinstance(value, str):
        moment = _moment(value)
        return local_datetime(moment) if moment else value
    if isinstance(kind, sqltypes.Date) and isinstance(value, str):
        try:
            return local_date(dt.date.fromisoformat(value[:10]))
        except ValueError:
            return value
    if isinstance(kind, sqltypes.LargeBinary):
        return str(A_FILE)
    return str(value)


def _moment(value: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    # The log writes aware UTC times; a naive one (a bulk write's) is UTC too.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class _NameBook:
    """The names of every record the entries mention, looked up once per record type."""

    def __init__(self, session: Session, entries: list[AuditLog]):
        wanted: dict[type, set[int]] = {}
        for entry in entries:
            for field, pair in (entry.changes or {}).items():
                if field in REFERENCES:
                    wanted.setdefault(REFERENCES[field], set()).update(
                        v for v in pair if isinstance(v, int)
                    )
            record_model = RECORD_MODELS.get(entry.table_name)
            if record_model is not None and entry.record_id:
                wanted.setdefault(record_model, set()).add(entry.record_id)
            elif entry.passport_id:
                wanted.setdefault(Passport, set()).add(entry.passport_id)
            if entry.actor_id:
                wanted.setdefault(ConsoleUser, set()).add(entry.actor_id)
        self._names = {
            model: _names_of(session, model, ids) for model, ids in wanted.items() if ids
        }

    def name(self, model, ident) -> str:
        found = self._names.get(model, {}).get(ident)
        return found if found else str(UNKNOWN)

    def subject(self, entry: AuditLog) -> str:
        model = RECORD_MODELS.get(entry.table_name)
        if model is not None:
            found = self._names.get(model, {}).get(entry.record_id)
            # A deleted record is named by the values it had.
            return found or _name_in_changes(entry) or str(UNKNOWN)
        if entry.passport_id:
            return self.name(Passport, entry.passport_id)
        return ""

    def actor(self, entry: AuditLog) -> str:
        if entry.actor_id is None:
            return str(SYSTEM_NAME)
        if _by_key(entry.actor_name):
            return actor_name(entry.actor_name)
        return self._names.get(ConsoleUser, {}).get(entry.actor_id) or entry.actor_name


RECORD_MODELS = {
    "garage": Garage,
    "customer": Customer,
    "passport": Passport,
    "fleet_account": FleetAccount,
    "user": ConsoleUser,
}


def _names_of(session: Session, model, ids: set[int]) -> dict[int, str]:
    from admin_app.domain.plates import display_plate

    if model is Customer:
        rows = session.execute(
            select(
                Customer.id, Customer.first_name, Customer.infix, Customer.last_name, Customer.email
            ).where(Customer.id.in_(ids))
        )
        return {
            row.id: " ".join(p for p in (row.first_name, row.infix, row.last_name) if p)
            or row.email
            for row in rows
        }
    if model is ConsoleUser:
        rows = session.execute(
            select(
                ConsoleUser.id, ConsoleUser.first_name, ConsoleUser.last_name, ConsoleUser.username
            ).where(ConsoleUser.id.in_(ids))
        )
        return {
            row.id: " ".join(p for p in (row.first_name, row.last_name) if p) or row.username
            for row in rows
        }
    if model is Passport:
        rows = session.execute(select(Passport.id, Passport.plate).where(Passport.id.in_(ids)))
        return {row.id: display_plate(row.plate) for row in rows}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _name_in_changes(entry: AuditLog) -> str:
    from admin_app.domain.plates import display_plate

    values = {field: pair[0] or pair[1] for field, pair in (entry.changes or {}).items()}
    if entry.table_name == "customer":
        parts = (values.get("first_name"), values.get("infix"), values.get("last_name"))
        return " ".join(p for p in parts if p) or values.get("email") or ""
    if entry.table_name == "passport":
        return display_plate(values["plate"]) if values.get("plate") else ""
    return values.get("name") or values.get("username") or ""
