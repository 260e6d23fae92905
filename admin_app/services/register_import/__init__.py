"""Importing the vehicle register (issue 18): RDW's open-data files, any size, streamed.

A file is recognized by its header names (`header`: the API's `vervaldatum_apk` and the
bulk download's `Vervaldatum APK` read alike; extra columns are ignored), and its rows are
cleaned (`rows`) and written in a generation of their own (the import's id), unseen by
readers, a chunk and a commit at a time: COPY on PostgreSQL, executemany on SQLite. What a
vanished plate had is copied into the new generation with the day it was last seen
(`generations`); then the import's state becomes `done` in one UPDATE, and from that
commit on every reader sees the new register (models/register.py). A file with fewer than
95% of the previous import's rows of its dataset is a broken download: refused, and its
rows are deleted unseen. The steps below only write; the job (jobs/register) commits
between them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import closing
from operator import itemgetter
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.errors import Forbidden, InvalidInput
from admin_app.models.base import utcnow
from admin_app.models.register import DATASET_LABELS, ImportState, RegisterImport
from admin_app.roles import ADMIN
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.register_import.generations import (
    PARTITIONED,
    TABLES,
    add_key,
    attach_partition,
    keep_vanished,
    own_partition,
    partition_name,
    purge,
)
from admin_app.services.register_import.header import Header, read_header
from admin_app.services.register_import.rows import (
    KEYED_BY_TWO,
    WRITTEN,
    clean_records,
    row_cleaner,
    timestamp_text,
)

# What callers use: the job's steps (jobs/register), the nightly refresh (register_refresh:
# TABLES, WRITTEN, clean_records), the pages and the command (reason_text).
__all__ = [
    "CHUNK",
    "PROGRESS_EVERY",
    "TABLES",
    "WRITTEN",
    "Header",
    "Refused",
    "Repeated",
    "check_not_busy",
    "claim",
    "clean_records",
    "create_import",
    "end",
    "outcome_of",
    "purge_old",
    "queue_import",
    "read_header",
    "reason_text",
    "row_cleaner",
    "rows_table",
    "set_progress",
    "switch",
    "write_rows",
]

CHUNK = 20_000  # rows per write (and commit on SQLite): the progress step
# Seconds between progress updates of a COPY: each is a commit of its own, and one per
# chunk cost a million rows 0.2 s.
PROGRESS_EVERY = 1.0
FIELD_LIMIT = 131_072  # characters in one cell at most: csv's own default limit
STALE = dt.timedelta(hours=6)  # the full register takes minutes; a day's refresh must run
MIN_SHARE = 0.95  # of the previous import's rows, below which a file is a broken download


# --- writing ---------------------------------------------------------------------------


def _write(session: Session, dataset: str, rows: list[tuple]) -> None:
    """One chunk into the dataset's table with executemany (SQLite)."""
    table, columns = TABLES[dataset].name, WRITTEN[dataset]
    marks = ", ".join("?" for _ in columns)
    session.connection().exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
    )


class _Stream:
    """A file-like object over pieces of CSV text, made as COPY reads them."""

    def __init__(self, pieces: Iterator[str]):
        self._pieces = pieces
        self._buffer = io.StringIO()
        self.error: Exception | None = None  # what making a piece raised

    def read(self, size: int = -1) -> str:
        data = self._buffer.read(size)
        while not data:
            try:
                piece = next(self._pieces, None)
            except Exception as error:
                self.error = error
                raise
            if piece is None:
                return ""
            self._buffer = io.StringIO(piece)
            data = self._buffer.read(size)
        return data


def _copy_all(
    session: Session,
    run: RegisterImport,
    header: Header,
    clean: Callable,
    into: Table,
    progress: Callable[[int, int, int], None],
) -> None:
    """PostgreSQL: the whole file in one COPY into ``into``, cleaned while PostgreSQL reads
    it (the worker parses on one core as the database writes on the other). The COPY's
    transaction shows nothing until it commits, so the progress goes to ``progress``,
    which the job commits in a session of its own (see set_progress)."""
    counts = {"rows": 0, "skipped": 0, "read": 0}
    said = time.monotonic()

    def pieces() -> Iterator[str]:
        nonlocal said
        for rows, skipped, read in _chunks(Path(run.path), header, clean):
            counts["rows"] += len(rows)
            counts["skipped"] += skipped
            counts["read"] = read
            if time.monotonic() - said >= PROGRESS_EVERY:
                progress(counts["rows"], counts["skipped"], read)
                said = time.monotonic()
            if rows:
                yield "\n".join(map("\t".join, rows)) + "\n"

    columns = WRITTEN[dataset_of(run)]
    stream = _Stream(pieces())
    # closing(): what psycopg2's cursor does as a context manager, which the DBAPI
    # protocol SQLAlchemy types it with does not declare.
    with closing(session.connection().connection.cursor()) as cursor:
        try:
            cursor.copy_expert(
                f"COPY {into.name} ({', '.join(columns)}) FROM STDIN",  # text format
                stream,
                size=1 << 16,
            )
        except Exception as error:
            if stream.error is not None:
                # psycopg2 cancels the COPY with its own error for one raised while
                # reading (a broken row is Refused): the reader's is the reason.
                raise stream.error from None
            if getattr(error, "pgcode", None) == "23505":  # unique_violation
                raise Repeated(str(error)) from error
            raise
    session.expire(run)
    run.rows, run.skipped, run.read_bytes = counts["rows"], counts["skipped"], counts["read"]


def set_progress(session: Session, import_id: int, rows: int, skipped: int, read: int) -> None:
    """How far a COPY has come, for the page that polls it: written in a session of the
    job's own, which commits it at once (jobs/progress)."""
    session.execute(
        update(RegisterImport)
        .where(RegisterImport.id == import_id)
        .values(rows=rows, skipped=skipped, read_bytes=read)
    )


def _chunks(path: Path, header: Header, clean: Callable) -> Iterator:
    """The cleaned rows of a file, CHUNK at a time, read as a stream; rows repeated within
    a chunk (same key) are written once, the later one counting."""
    key: Callable[[tuple], Hashable]
    if header.dataset in KEYED_BY_TWO:
        key = itemgetter(1, 2)  # (plate, sequence) and (plate, reference)
    else:
        key = itemgetter(1)  # the plate, the reference: no tuple made per row
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=header.encoding, errors="replace", newline="")
        # csv's field limit is process-wide, and reading a customer list raises it to
        # 20 MB (services/tables): set here, so a quote never closed swallows at most this
        # much of a register file (whose longest cell is a recall's text) before it is
        # refused. strict: a quote never closed up to the end of the file, or text after
        # a closing quote, is an error, not the rest of the file read as one cell.
        csv.field_size_limit(FIELD_LIMIT)
        reader = csv.reader(text, delimiter=header.delimiter, strict=True)
        next(reader, None)  # the header
        chunk: dict[Hashable, tuple] = {}
        skipped = 0
        starts_on = 2  # the line the next row starts on: a row may span lines
        try:
            for row in reader:
                cleaned = clean(row)
                if cleaned is not None:
                    chunk[key(cleaned)] = cleaned
                    if len(chunk) >= CHUNK:
                        yield list(chunk.values()), skipped, raw.tell()
                        chunk, skipped = {}, 0
                elif any(cell.strip() for cell in row):
                    skipped += 1
                starts_on = reader.line_num + 1
        except csv.Error:
            # A quote never closed swallows the rest of the file into one cell until
            # csv's field limit: the file is broken, not the import. Named by the line
            # its row starts on, where the quote is.
            raise Refused("malformed", line=starts_on) from None
        yield list(chunk.values()), skipped, raw.tell()


# --- one import --------------------------------------------------------------------------


def create_import(session: Session, *, path: Path, file_name: str, actor: Actor):
    """The import of one file, checked by its header now (a wrong file is refused at once,
    before it waits for the worker), and logged."""
    header = read_header(path)
    run = RegisterImport(
        dataset=header.dataset,
        file_name=file_name[:255],
        path=str(path),
        size_bytes=path.stat().st_size,
        read_bytes=0,
        rows=0,
        skipped=0,
        kept=0,
        state=ImportState.queued.value,
        started_by=actor.name,
    )
    session.add(run)
    session.flush()
    record_bulk(
        session,
        actor,
        "register_import",
        [("import", run.id, {"file": (None, run.file_name), "dataset": (None, run.dataset)})],
    )
    return run


def queue_import(session: Session, *, path: Path, file_name: str, actor: Actor) -> RegisterImport:
    """Admin's uploaded register file, imported by the worker once this commits."""
    from admin_app.queueing import enqueue_after_commit

    if not actor.has(ADMIN):
        raise Forbidden(_l("Only an administrator imports the vehicle register."))
    run = create_import(session, path=path, file_name=file_name, actor=actor)
    enqueue_after_commit(session, "admin_app.jobs.register.import_register", run.id)
    return run


class Repeated(Exception):
    """A plate (or reference) twice in one file, in rows far apart."""


class Refused(Exception):
    """The file is not taken; ``reason`` (a code of REASONS) says why, and the register is
    as it was."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason, self.params = reason, params


# Why an import was not taken, as codes with parameters: the worker writes them without a
# reader, the page says them in the reader's language (reason_text).
REASONS = {
    "busy": _l("Another import of %(dataset)s is running: import this file when it is done."),
    "no_rows": _l("The file holds no rows with a plate or reference: nothing imported."),
    "too_few": _l(
        "The file holds %(rows)s rows of %(dataset)s, the previous import "
        "%(previous)s: fewer than 95%%, so probably a broken download. Refused, "
        "the register is as it was. Download the file again and import that one."
    ),
    "repeated": _l(
        "The file holds %(key)s more than once, in rows far apart: refused, "
        "the register is as it was."
    ),
    "malformed": _l(
        "Line %(line)s of the file cannot be read as CSV: a quote is never closed or is "
        "followed by more text, or a cell is longer than 131,072 characters. Refused, the "
        "register is as it was."
    ),
    "unreadable": _l("The file could no longer be read as a register file: import it again."),
    "failed": _l(
        "The import stopped on a technical error; the register is as it was. "
        "The worker's log has the details."
    ),
}


def reason_text(run: RegisterImport) -> str | None:
    """Why ``run`` was refused or failed, in the reader's language."""
    if not run.reason:
        return None
    params = dict(run.reason_params or {})
    if "dataset" in params:
        params["dataset"] = DATASET_LABELS.get(params["dataset"], params["dataset"])
    for name in ("rows", "previous", "line"):
        if name in params:
            params[name] = f"{params[name]:,}".replace(",", ".")
    if params.get("key") is None and run.reason == "repeated":
        params["key"] = _l("a plate or reference")
    message = REASONS.get(run.reason)
    return run.reason if message is None else str(message) % params if params else str(message)


# The steps of one import, in the order the job (jobs/register) runs them, committing after
# each: claim, check_not_busy, rows_table, write_rows (a commit at each of its yields),
# switch (its commit is the switch), purge_old; on an error, outcome_of and end.


def claim(session: Session, import_id: int) -> bool:
    """A queued import taken by this worker; False when another delivery of the job (or
    the command) took it: the job runs only the first claim."""
    claimed = changed_rows(
        session.execute(
            update(RegisterImport)
            .where(RegisterImport.id == import_id, RegisterImport.state == ImportState.queued.value)
            .values(state=ImportState.running.value, started_at=utcnow())
        )
    )
    return bool(claimed)


def check_not_busy(session: Session, run: RegisterImport) -> Header:
    """The file's header read again (it may have changed since the upload) and no other
    import of its dataset running; Refused("busy") when one is."""
    header = read_header(Path(run.path))
    dataset = run.dataset = header.dataset
    busy = session.scalar(
        select(RegisterImport.id).where(
            RegisterImport.dataset == dataset,
            RegisterImport.state == ImportState.running.value,
            RegisterImport.id != run.id,
            # A worker that died mid-import leaves its import `running`: after STALE it
            # blocks no one (its unseen rows go with the next switch's purge).
            RegisterImport.started_at > utcnow() - STALE,
        )
    )
    if busy:
        raise Refused("busy", dataset=dataset)
    return header


def dataset_of(run: RegisterImport) -> str:
    """The import's dataset, which check_not_busy reads from the header before any row."""
    if run.dataset is None:
        raise ValueError(f"register import {run.id} has no dataset: its header was not read")
    return run.dataset


def rows_table(session: Session, run: RegisterImport) -> Table:
    """Where the import's rows go: on PostgreSQL a big dataset's partition of its own,
    created now (committed before the rows come, so an import that dies leaves a table
    the next switch's purge finds); else the dataset's table."""
    dataset = dataset_of(run)
    table = TABLES[dataset]
    if dataset in PARTITIONED and session.get_bind().dialect.name == "postgresql":
        return own_partition(session, dataset, run.id)
    return table


def write_rows(
    session: Session,
    run: RegisterImport,
    header: Header,
    into: Table,
    today: dt.date,
    progress: Callable[[int, int, int], None],
) -> Iterator[None]:
    """The file's rows into ``into``, yielding where the caller commits: on SQLite after
    each CHUNK (short write locks), on PostgreSQL after the one COPY and after its
    ANALYZE. ``progress`` hears how far a COPY has come."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    clean = row_cleaner(
        header, run.id, today.isoformat(), timestamp_text(session, utcnow()), copy=postgresql
    )
    if postgresql:
        _copy_all(session, run, header, clean, into, progress)
        yield
        # A million rows just arrived: without fresh statistics the planner would keep
        # what a 70-row table taught it for the copy of vanished plates below.
        session.execute(text(f"ANALYZE {into.name}"))
        yield
        return
    for rows, skipped, read in _chunks(Path(run.path), header, clean):
        if rows:
            _write(session, dataset_of(run), rows)
        run.rows += len(rows)
        run.skipped += skipped
        run.read_bytes = read
        yield


def switch(session: Session, run: RegisterImport, into: Table) -> None:
    """The rows written are checked against the previous import (Refused when none, or
    fewer than MIN_SHARE of its), vanished plates kept, and the import made `done`: the
    caller's commit is the switch, from which on readers see this generation."""
    dataset = dataset_of(run)
    table = TABLES[dataset]
    previous = session.scalar(
        select(RegisterImport)
        .where(
            RegisterImport.dataset == dataset,
            RegisterImport.state == ImportState.done.value,
            RegisterImport.id < run.id,
        )
        .order_by(RegisterImport.id.desc())
        .limit(1)
    )
    if not run.rows:
        raise Refused("no_rows")
    if previous is not None and run.rows < MIN_SHARE * previous.rows:
        raise Refused("too_few", rows=run.rows, previous=previous.rows, dataset=dataset)
    if into is not table:
        add_key(session, dataset, into)
    run.kept = keep_vanished(session, dataset, run.id, into)
    if into is not table:
        attach_partition(session, dataset, into, run.id)
    run.state = ImportState.done.value
    run.finished_at = utcnow()


def purge_old(session: Session, run: RegisterImport) -> None:
    """After the switch: the generations before this one, which no reader sees any more."""
    purge(session, dataset_of(run), before=run.id)


def outcome_of(error: Exception) -> tuple[ImportState, str, dict | None]:
    """What an import that raised ``error`` ends as: its state, reason code and
    parameters. Only `failed` is the console's fault (the job logs and re-raises it)."""
    if isinstance(error, Refused):
        return ImportState.refused, error.reason, error.params
    if isinstance(error, (InvalidInput, FileNotFoundError, PermissionError, IsADirectoryError)):
        # The header was read at upload: the file changed since, or is gone (removed or
        # swapped on the server before the worker came to it).
        return ImportState.refused, "unreadable", None
    if isinstance(error, (IntegrityError, Repeated)):
        repeated = re.search(r"=\((\d+), ([^)]*)\)", str(getattr(error, "orig", error)))
        return ImportState.refused, "repeated", {"key": repeated.group(2) if repeated else None}
    # The page speaks to Admin; the technical reason is in the worker's log.
    return ImportState.failed, "failed", None


def end(
    session: Session,
    run: RegisterImport,
    state: ImportState,
    reason: str,
    params: dict | None = None,
) -> None:
    """A refused or failed import, after the caller's rollback: its rows go (unseen), the
    reason stays on its page. The caller commits."""
    session.expire_all()
    run = session.get_one(RegisterImport, run.id)
    if run.dataset in PARTITIONED and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"DROP TABLE IF EXISTS {partition_name(run.dataset, run.id)}"))
    elif run.dataset:
        table = TABLES[run.dataset]
        session.execute(delete(table).where(table.c.generation == run.id))
    run.state = state.value
    run.reason, run.reason_params = reason, params or None
    run.finished_at = utcnow()
    session.flush()
