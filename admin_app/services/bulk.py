"""Set-based writing, the same on PostgreSQL and SQLite.

What the importer needs that SQLAlchemy does not give portably: loading many rows fast
(PostgreSQL's COPY is ~20× faster than a multi-row INSERT through the driver), and building
an audit row's JSON and a mail's subject inside the database, so that they
are written by an INSERT … SELECT instead of being built in Python one by one.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping

from sqlalchemy import JSON, String, Table, cast, func, insert, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter, Null


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_on_conflict(dialect_name: str, table):
    """An INSERT that takes ``on_conflict_do_nothing`` / ``on_conflict_do_update``, as the
    database spells it: no exception and no savepoint (pysqlite's first SAVEPOINT would
    commit on release)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def load_rows(session: Session, table: Table, columns: list[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples in the order of ``columns``, in the session's transaction.

    On PostgreSQL by COPY (text format); elsewhere by one executemany INSERT.
    """
    if not is_postgresql(session):
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        if records:
            session.execute(insert(table), records)
        return len(records)
    cursor = session.connection().connection.cursor()
    names = ", ".join(f'"{name}"' for name in columns)
    buffer, count = io.StringIO(), 0

    def send() -> None:
        buffer.seek(0)
        cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN", buffer)
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        buffer.write("\t".join([_copy_text(value) for value in row]))
        buffer.write("\n")
        count += 1
        if count % COPY_BATCH == 0:
            send()  # a few MB at a time, not the whole list in memory
    if count % COPY_BATCH:
        send()
    return count


COPY_BATCH = 10_000


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _copy_text(value) -> str:
    """A value in COPY's text format (a list's 2.5 million cells pass through here)."""
    if value.__class__ is not str:
        if value is None:
            return r"\N"
        if value is True or value is False:
            return "t" if value else "f"
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        value = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


def json_changes(session: Session, pairs: Mapping[str, ColumnElement]) -> ColumnElement:
    """A JSON object ``{field: [old, new]}`` built in SQL, leaving out fields whose pair is
    NULL (the caller writes ``CASE WHEN changed THEN json_pair(old, new) END``)."""
    if not is_postgresql(session):
        arguments = []
        for name, pair in pairs.items():
            arguments += [literal(name), pair]
        return func.json_patch("{}", func.json_object(*arguments))
    # As text joined by concat_ws, which skips the NULL members: half the time of
    # json_strip_nulls(json_build_object(…)), which builds the object and parses it again
    # (an importer's run writes 200,000 of these).
    members = [literal(json.dumps(name) + ":", String) + pair for name, pair in pairs.items()]
    return cast(literal("{", String) + func.concat_ws(",", *members) + literal("}", String), JSON)


def json_pair(session: Session, old, new) -> ColumnElement:
    if not is_postgresql(session):
        return func.json_array(old, new)
    return literal("[", String) + _json_text(old) + "," + _json_text(new) + "]"


def _json_text(value) -> ColumnElement:
    """A value as JSON text, `null` for NULL (as json_build_array writes it)."""
    if value is None or isinstance(value, Null):
        return literal("null", String)
    if isinstance(value, BindParameter):
        value = cast(value, value.type)  # to_json() takes no untyped parameter
    return func.coalesce(cast(func.to_json(value), String), "null")


def add_days(session: Session, day, days) -> ColumnElement:
    """``day`` + ``days`` (an integer expression) as a date."""
    from sqlalchemy import Integer, cast

    if is_postgresql(session):
        return day + cast(days, Integer)  # date + bigint has no operator
    return func.date(day, func.printf("%+d days", days))


def days_between(session: Session, later, earlier) -> ColumnElement:
    """Whole days from ``earlier`` to ``later``."""
    from sqlalchemy import Integer, cast

    if is_postgresql(session):
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


# --- texts made by the database ----------------------------------------------------------


_FIELD = re.compile(r"%\((\w+)\)s")


def sql_format(template: str, **fields) -> ColumnElement:
    """A `%(name)s` template filled in by the database: its literal parts as bound values
    joined to the field expressions, so no field's text is ever read as a placeholder."""
    parts = _FIELD.split(template)
    text: ColumnElement = literal(parts[0].replace("%%", "%"), String)
    for index in range(1, len(parts), 2):
        text = text + func.coalesce(fields[parts[index]], "")
        text = text + literal(parts[index + 1].replace("%%", "%"), String)
    return text
