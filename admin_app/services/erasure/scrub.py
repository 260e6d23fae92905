"""How an erase rewrites what it reaches (services/erasure): by the registry's rule per
column (services/personal_data), by walking free text and JSON for his values, and in the
bytes kept outside any text column. Plain functions over a session; they flush nothing the
caller did not ask for."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from admin_app.models import ApiKey, ConsoleUser, ExportFile, IdempotencyKey
from admin_app.models.base import utcnow
from admin_app.scope import parent_of
from admin_app.services.personal_data import ERASED, REGISTRY, Rule, Traces, erased_email, walk


def scrub_stored_bytes(session: Session, traces: Traces, garage_id: int | None) -> None:
    """The bytes that quote him outside any text column: a list export's file (kept 24 h,
    its rows his name and address) loses its file, as when it expires; an API answer kept
    for its Idempotency-Key is walked like any JSON (a replay then names nobody)."""
    now = utcnow()
    files = select(ExportFile.id).where(ExportFile.data.is_not(None))
    if garage_id is not None:
        files = files.where(ExportFile.garage_id == garage_id)
    # One file in memory at a time: a day's exports of 100,000 rows each are large.
    for file_id in session.scalars(files).all():
        data = session.scalar(select(ExportFile.data).where(ExportFile.id == file_id))
        if data and traces.found_in(text_of(data)):
            session.execute(
                update(ExportFile).where(ExportFile.id == file_id).values(data=None, expires_at=now)
            )
    answers = select(IdempotencyKey.id, IdempotencyKey.body).where(IdempotencyKey.body.is_not(None))
    if garage_id is not None:
        answers = answers.where(
            or_(
                IdempotencyKey.user_id.in_(
                    select(ConsoleUser.id).where(ConsoleUser.garage_id == garage_id)
                ),
                IdempotencyKey.api_key_id.in_(
                    select(ApiKey.id).where(ApiKey.garage_id == garage_id)
                ),
            )
        )
    for key_id, body in session.execute(answers).all():
        text = text_of(body)
        try:
            answer = json.loads(text)
        except ValueError:
            if traces.found_in(text):  # not JSON: nothing of it can be kept
                session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id))
            continue
        walked = walk(answer, traces, by_key=False)
        if walked != answer:
            session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == key_id)
                .values(body=json.dumps(walked).encode())
            )


def text_of(data: bytes) -> str:
    """A stored file's words: an XLSX (a zip) unzipped, anything else decoded."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return " ".join(
                    archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                )
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "replace")


def by_rules(obj, table_name: str, only: tuple[str, ...] | None = None) -> None:
    """An ORM row anonymized column by column by the registry (so the change is audited)."""
    for name, rule in REGISTRY[table_name].items():
        if only and name not in only:
            continue
        value = getattr(obj, name, None)
        if value is None:
            continue
        if rule == Rule.TEXT:
            setattr(obj, name, ERASED)
        elif rule == Rule.NULL:
            setattr(obj, name, None)
        elif rule == Rule.EMAIL:
            setattr(obj, name, erased_email(obj.id))


def table_of(name: str):
    from flask_appbuilder import Model

    return Model.metadata.tables[name]


def rules_on_rows(session: Session, table_name: str, row_ids: list[int]) -> None:
    table = table_of(table_name)
    plain: dict[str, str | None] = {}
    for name, rule in REGISTRY[table_name].items():
        if rule == Rule.TEXT:
            plain[name] = ERASED
        elif rule == Rule.NULL:
            plain[name] = None
    if plain:
        session.execute(update(table).where(table.c.id.in_(row_ids)).values(plain))
    for name in (n for n, rule in REGISTRY[table_name].items() if rule == Rule.EMAIL):
        for row_id in row_ids:
            session.execute(
                update(table).where(table.c.id == row_id).values({name: erased_email(row_id)})
            )


def walk_rows(session: Session, table_name: str, row_ids, traces: Traces, *, by_key: bool):
    columns = [n for n, rule in REGISTRY[table_name].items() if rule == Rule.WALK]
    table = table_of(table_name)
    for chunk in _chunks(list(row_ids)):
        for row in session.execute(
            select(table.c.id, *(table.c[n] for n in columns)).where(table.c.id.in_(chunk))
        ):
            _rewrite(session, table, row, columns, traces, by_key=by_key)


def _rewrite(session, table, row, columns, traces, *, by_key: bool) -> None:
    values = {}
    for name in columns:
        old = row._mapping[name]
        new = walk(old, traces, by_key=by_key)
        if new != old:
            values[name] = new
    if values:
        session.execute(update(table).where(table.c.id == row.id).values(values))


def scrub_table(session, table_name, columns, traces: Traces, garage_id) -> None:
    """Rows of ``table_name`` whose walked columns quote one of his values, found in SQL
    (lowercased text, JSON as stored: its non-ASCII escaped) and rewritten in Python."""
    table = table_of(table_name)
    found = []
    for name in columns:
        text = func.lower(cast(table.c[name], Text))
        for value in traces.values:
            found.append(text.contains(value, autoescape=True))
            escaped = json.dumps(value)[1:-1]
            if escaped != value:
                found.append(text.contains(escaped, autoescape=True))
    query = select(table.c.id, *(table.c[n] for n in columns)).where(or_(*found))
    if garage_id is not None:
        scope = garage_scope(table, garage_id)
        if scope is None:
            return  # a table of no garage: left to the person's erase
        query = query.where(scope)
    for row in session.execute(query).all():
        _rewrite(session, table, row, columns, traces, by_key=False)


def garage_scope(table, garage_id):
    if "garage_id" in table.c:
        return table.c.garage_id == garage_id
    through = parent_of(table.name)  # the scope's one list of children of a scoped parent
    if through is not None:
        column, parent = through
        return table.c[column].in_(select(parent.id).where(parent.garage_id == garage_id))
    return None


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]
