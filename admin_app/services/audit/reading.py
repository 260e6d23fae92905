"""The log as a person reads it (issue 14): entries as sentences, field by field, with
names for ids (one query per record type, through the reader's scope) and values as the
screens show them. The stored entries are not changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import sqltypes

from admin_app.models import AuditLog, ConsoleUser, Customer, FleetAccount, Garage, Passport
from admin_app.services.audit.actors import API_KEY_ACTOR, SYSTEM_ACTOR
from admin_app.services.audit.labels import (
    A_FILE,
    ACTIONS,
    ACTOR_FIELDS,
    BOOKKEEPING,
    DATA_EXPORT_WORDS,
    ERASED,
    EXPORTED,
    IMPORTED,
    REFERENCES,
    RETAINED_NO_LONGER,
    SENTENCES,
    SYSTEM_NAME,
    UNKNOWN,
    field_labels,
    value_labels,
)
from admin_app.services.audit.writing import AUDITED, is_secret


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
    labels_by_table, labels_of_values = field_labels(), value_labels()
    with force_locale(locale):
        return [_describe(entry, names, labels_by_table, labels_of_values) for entry in entries]


def _describe(entry, names, labels_by_table, value_labels) -> EntryDescription:
    labels = labels_by_table.get(entry.table_name, {})
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


def _shown(entry, field: str, column, value, names, value_labels) -> str | None:
    """One old or new value of a field in words; None when there is none."""
    if value is None or value == "":
        return None
    if field in ACTOR_FIELDS and entry.actor_id and value == entry.actor_name:
        # The user name the record keeps: the entry's actor, named as under Who.
        return names.actor(entry)
    return _value_text(entry.table_name, field, value, column, names, value_labels)


def _what_happened(entry) -> str:
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
    return field in BOOKKEEPING or is_secret(field) or "hash" in field


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
            names = self._names.get(model, {})
            found = names.get(entry.record_id) if entry.record_id is not None else None
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
