"""The importer's honest floor (issue 20): the time PostgreSQL takes to COPY exactly the rows
one import wrote — its customers, passports, audit rows, tokens, mails, list rows — into
the same tables, with the same indexes and foreign keys, on two connections.

Nothing here knows what the importer writes: `high_water` notes every table's highest id
before an import, `take_written` reads back (as COPY text) every row above it afterwards
and deletes them again, so the next import starts from the same database; `copy_floor`
then times writing those rows back and `take_written` removes them once more. When the
importer writes another table or fewer rows, the floor follows.

Rows are written level by level (a table whose rows point at another written table's comes
after it: a foreign key cannot see a parent another connection has not committed), each
level's tables shared out over the two connections by their number of rows.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CONNECTIONS = 2


@dataclass(frozen=True)
class Written:
    table: str
    rows: int
    text: str  # COPY's text format, every column in the table's order
    parents: frozenset[str]  # the other written tables its foreign keys point at


def high_water(cursor) -> dict[str, int]:
    """Every table with an integer ``id``: its highest id (0 when empty)."""
    marks = {}
    for (table,) in _tables_with_id(cursor):
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
        marks[table] = cursor.fetchone()[0]
    return marks


def take_written(cursor, before: dict[str, int]) -> list[Written]:
    """The rows above ``before`` in each table, read out and deleted (children first, as
    the owner: foreign keys are not checked for the delete, nothing else points at them)."""
    texts = {}
    for table, mark in before.items():
        out = io.StringIO()
        cursor.copy_expert(
            f'COPY (SELECT * FROM "{table}" WHERE id > {int(mark)} ORDER BY id) TO STDOUT', out
        )
        if out.tell():
            texts[table] = out.getvalue()
    parents = _foreign_tables(cursor, set(texts))
    cursor.execute("SET session_replication_role = replica")
    for table in texts:
        cursor.execute(f'DELETE FROM "{table}" WHERE id > %s', (before[table],))
    cursor.execute("SET session_replication_role = origin")
    cursor.connection.commit()
    cursor.connection.autocommit = True
    for table in texts:
        cursor.execute(f'VACUUM ANALYZE "{table}"')
    cursor.connection.autocommit = False
    return [
        Written(table, text.count("\n"), text, frozenset(parents.get(table, ())))
        for table, text in texts.items()
    ]


def copy_floor(connect: Callable[[], object], written: list[Written]) -> float:
    """Seconds to COPY ``written`` back, each level split over CONNECTIONS connections
    that each commit their share, as the importer's parallel chunks do."""
    connections = [connect() for _ in range(CONNECTIONS)]
    try:
        started = time.perf_counter()
        for level in _levels(written):
            shares = _shares(level)
            errors: list[BaseException] = []
            threads = [
                threading.Thread(target=_copy, args=(conn, share, errors))
                for conn, share in zip(connections, shares, strict=True)
                if share
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
        return time.perf_counter() - started
    finally:
        for conn in connections:
            conn.close()


def _copy(conn, share: list[Written], errors: list[BaseException]) -> None:
    try:
        cursor = conn.cursor()
        for written in share:
            cursor.copy_expert(f'COPY "{written.table}" FROM STDIN', io.StringIO(written.text))
        conn.commit()
    except BaseException as error:  # reported by the caller's thread
        conn.rollback()
        errors.append(error)


def _levels(written: list[Written]) -> list[list[Written]]:
    left = {w.table: w for w in written}
    done: set[str] = set()
    levels = []
    while left:
        level = [w for w in left.values() if w.parents <= done]
        if not level:
            raise RuntimeError(f"foreign keys in a circle: {sorted(left)}")
        levels.append(level)
        for w in level:
            done.add(w.table)
            del left[w.table]
    return levels


def _shares(level: list[Written]) -> list[list[Written]]:
    """The level's tables over the connections, largest first to the least loaded."""
    shares: list[list[Written]] = [[] for _ in range(CONNECTIONS)]
    loads = [0] * CONNECTIONS
    for written in sorted(level, key=lambda w: -w.rows):
        least = loads.index(min(loads))
        shares[least].append(written)
        loads[least] += written.rows
    return shares


def _tables_with_id(cursor) -> list[tuple[str]]:
    cursor.execute(
        "SELECT c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
        "AND c.column_name = 'id' AND c.data_type IN ('integer', 'bigint') "
        "ORDER BY c.table_name"
    )
    return cursor.fetchall()


def _foreign_tables(cursor, tables: set[str]) -> dict[str, set[str]]:
    cursor.execute(
        "SELECT src.relname, dst.relname FROM pg_constraint k "
        "JOIN pg_class src ON src.oid = k.conrelid JOIN pg_class dst ON dst.oid = k.confrelid "
        "WHERE k.contype = 'f'"
    )
    parents: dict[str, set[str]] = {}
    for child, parent in cursor.fetchall():
        if child in tables and parent in tables and child != parent:
            parents.setdefault(child, set()).add(parent)
    return parents
