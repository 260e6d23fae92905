"""Importing the vehicle register (issue 18): RDW's open-data files, any size, streamed.

A file is recognized by its header names (the API's `vervaldatum_apk` and the bulk
download's `Vervaldatum APK` read alike; extra columns are ignored). Its rows are written
in a generation of their own (the import's id), unseen by readers, a chunk and a commit at
a time: COPY on PostgreSQL, executemany on SQLite. What a vanished plate had is copied
into the new generation with the day it was last seen; then the import's state becomes
`done` in one UPDATE, and from that commit on every reader sees the new register
(models/register.py). A file with fewer than 95% of the previous import's rows of its
dataset is a broken download: refused, and its rows are deleted unseen. The steps below
only write; the job (jobs/register) commits between them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import MetaData, Table, delete, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden, InvalidInput
from admin_app.models import Recall, RecallDetail, RegisteredFuel, RegisteredVehicle
from admin_app.models.base import utcnow
from admin_app.models.register import (
    DATASET_LABELS,
    Dataset,
    ImportState,
    RegisterImport,
    current_generation,
)
from admin_app.roles import ADMIN
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.tables import find_columns, header_aliases, header_key, separator

CHUNK = 20_000  # rows per write (and commit on SQLite): the progress step
# Seconds between progress updates of a COPY: each is a commit of its own, and one per
# chunk cost a million rows 0.2 s.
PROGRESS_EVERY = 1.0
SAMPLE = 64 * 1024  # bytes read to judge encoding, delimiter and binary content
SEPARATORS = (",", ";", "\t", "|")  # RDW writes `,`; a file saved again by Excel `;`
FIELD_LIMIT = 131_072  # characters in one cell at most: csv's own default limit
STALE = dt.timedelta(hours=6)  # the full register takes minutes; a day's refresh must run
MIN_SHARE = 0.95  # of the previous import's rows, below which a file is a broken download
NO_VALUE = {"", "niet geregistreerd", "n.v.t."}  # RDW's placeholders for "nothing known"

# Required and optional columns per dataset, by the names messages use; a header cell
# matches one as tables.header_key compares them (`Vervaldatum APK` is vervaldatum_apk).
REQUIRED = {
    Dataset.vehicles.value: (
        "kenteken",
        "merk",
        "handelsbenaming",
        "vervaldatum_apk",
        "datum_eerste_toelating",
    ),
    Dataset.fuel.value: ("kenteken", "brandstof_volgnummer", "brandstof_omschrijving"),
    Dataset.recall_status.value: ("referentiecode_rdw", "kenteken", "code_status"),
    Dataset.recall_details.value: ("referentiecode_rdw", "omschrijving_defect"),
}
OPTIONAL = {
    Dataset.vehicles.value: (
        "voertuigsoort",
        "datum_tenaamstelling",
        "eerste_kleur",
        "inrichting",
        "aantal_zitplaatsen",
        "catalogusprijs",
    ),
    Dataset.fuel.value: (),
    Dataset.recall_status.value: (),
    Dataset.recall_details.value: (
        "publicatiedatum_rdw",
        "beschrijving_van_het_herstel",
        "mogelijke_gevolgen",
    ),
}
# Columns only one dataset has: a file is the dataset most of them point to, so a file
# that lacks a required column is still recognized, and refused naming that column.
SIGNATURE = {
    Dataset.vehicles.value: {
        "merk",
        "handelsbenaming",
        "vervaldatum_apk",
        "datum_eerste_toelating",
        "voertuigsoort",
        "datum_tenaamstelling",
    },
    Dataset.fuel.value: {"brandstof_volgnummer", "brandstof_omschrijving"},
    Dataset.recall_status.value: {"code_status"},
    Dataset.recall_details.value: {
        "publicatiedatum_rdw",
        "omschrijving_defect",
        "beschrijving_van_het_herstel",
        "mogelijke_gevolgen",
    },
}
TABLES = {
    Dataset.vehicles.value: RegisteredVehicle.__table__,
    Dataset.fuel.value: RegisteredFuel.__table__,
    Dataset.recall_status.value: Recall.__table__,
    Dataset.recall_details.value: RecallDetail.__table__,
}
# The columns each row is written with, in this order (generation first).
WRITTEN = {
    Dataset.vehicles.value: (
        "generation",
        "plate",
        "kind",
        "brand",
        "trade_name",
        "apk_expiry",
        "first_admission",
        "registered_on",
        "colour",
        "body",
        "seats",
        "catalogue_price",
        "last_seen_on",
    ),
    Dataset.fuel.value: ("generation", "plate", "sequence", "fuel"),
    Dataset.recall_status.value: ("generation", "plate", "reference", "status", "imported_at"),
    Dataset.recall_details.value: (
        "generation",
        "reference",
        "published_on",
        "defect",
        "remedy",
        "consequences",
    ),
}
# The datasets of millions of rows (16.9 M vehicles, more fuels): on PostgreSQL each
# import writes a table of its own and attaches it as a partition (migration 0026).
PARTITIONED = (Dataset.vehicles.value, Dataset.fuel.value)
# What identifies a row when a vanished one is kept: a plate keeps its vehicle and its fuels,
# a reference its details. Recall status is not kept: a recall missing from a new status
# file is no longer open.
# Datasets whose row is known by plate and a second column (sequence, reference).
KEYED_BY_TWO = (Dataset.fuel.value, Dataset.recall_status.value)
KEPT_BY = {
    Dataset.vehicles.value: "plate",
    Dataset.fuel.value: "plate",
    Dataset.recall_details.value: "reference",
}


@dataclass(frozen=True)
class Header:
    dataset: str
    encoding: str
    delimiter: str
    at: dict[str, int]  # column name -> column index, for the columns the import reads


def _sniff(path: Path) -> tuple[str, str]:
    """(encoding, delimiter) of a register file, or a refusal a person can act on."""
    with open(path, "rb") as file:
        sample = file.read(SAMPLE)
    if not sample.strip():
        raise InvalidInput(_l("The file is empty."), field="file")
    if sample.startswith(b"PK\x03\x04"):
        raise InvalidInput(
            _l(
                "This is an Excel or zip file: register files are imported as CSV, as RDW "
                "publishes them."
            ),
            field="file",
        )
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" and some Windows tools save UTF-16: text, with NUL bytes.
        encoding = "utf-16"
        first_line = sample.decode(encoding, errors="replace").splitlines()[0]
        return encoding, separator(first_line, SEPARATORS)
    if b"\x00" in sample:
        raise InvalidInput(
            _l("This is no text file: register files are CSV files, as RDW publishes them."),
            field="file",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"  # saved again on a Dutch Windows machine
    first_line = sample.decode(encoding, errors="replace").splitlines()[0]
    return encoding, separator(first_line, SEPARATORS)


_BROKEN_HEADER = _l(
    "The file's first line is no header of column names: a quote is never closed or a "
    "name is longer than 131,072 characters."
)


def read_header(path: Path) -> Header:
    """The dataset a file holds and where its columns are; refused when it is none of the
    four, or lacks a column its dataset needs (named, in the reader's language)."""
    encoding, delimiter = _sniff(path)
    with open(path, encoding=encoding, errors="replace", newline="") as file:
        try:
            names = next(csv.reader(file, delimiter=delimiter, strict=True), [])
        except csv.Error:  # a quote never closed or a name past csv's field limit
            raise InvalidInput(_BROKEN_HEADER, field="file") from None
    dataset = _dataset_of(names)
    wanted = REQUIRED[dataset] + OPTIONAL[dataset]
    found, repeated = find_columns(names, header_aliases({name: (name,) for name in wanted}))
    # A column the import reads, twice: which one counts would be a guess (as a customer
    # list's, issue 13); RDW's files have none twice. Columns not read may repeat.
    twice = [name for name in wanted if name in repeated]
    if twice:
        raise InvalidInput(
            _l(
                "The file has the column(s) %(columns)s more than once: which one counts "
                "would be a guess. Refused.",
                columns=", ".join(twice),
            ),
            field="file",
        )
    at = {name: index for index, name in found.items()}
    missing = [name for name in REQUIRED[dataset] if name not in at]
    if missing:
        raise _columns_missing(dataset, missing)
    return Header(dataset, encoding, delimiter, {name: at[name] for name in wanted if name in at})


def _dataset_of(names: list[str]) -> str:
    """The dataset most of the header's columns point to (SIGNATURE); refused when none
    does."""
    keys = {header_key(name) for name in names}
    scores = {
        dataset: len({header_key(name) for name in SIGNATURE[dataset]} & keys)
        for dataset in SIGNATURE
    }
    dataset = max(scores, key=scores.get)
    if not scores[dataset]:
        raise InvalidInput(
            _l(
                "This file is no register file: its header has none of the columns of "
                "registered vehicles, fuel, recall status or recall details (such as "
                "kenteken, merk, brandstof_omschrijving, code_status)."
            ),
            field="file",
        )
    return dataset


def _columns_missing(dataset: str, missing: list[str]) -> InvalidInput:
    # Said with what to do: RDW's files have every column, so a missing one is a
    # download narrowed (the API's $select) or a file edited by hand.
    return InvalidInput(
        (
            _l(
                "The file of %(dataset)s lacks the column %(columns)s. Download the "
                "file again from RDW's open data (opendata.rdw.nl) with all its "
                "columns, and import that one.",
                dataset=DATASET_LABELS[dataset],
                columns=missing[0],
            )
            if len(missing) == 1
            else _l(
                "The file of %(dataset)s lacks the columns %(columns)s. Download the "
                "file again from RDW's open data (opendata.rdw.nl) with all its "
                "columns, and import that one.",
                dataset=DATASET_LABELS[dataset],
                columns=", ".join(missing),
            )
        ),
        field="file",
    )


# --- cleaning values --------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_DATES: dict[str, str | None] = {}  # raw date text -> ISO date; few distinct values


def _plate(raw: str) -> str:
    plate = raw.strip().upper()
    return plate if plate.isalnum() and plate.isascii() else _NOT_ALNUM.sub("", plate)


def _text(raw: str, length: int) -> str | None:
    value = raw.strip()
    return None if value.lower() in NO_VALUE else value[:length]


def _date(raw: str) -> str | None:
    """`20270811` (both shapes), `2027-08-11`, `11-08-2027` or the bulk's US
    `08/11/2027 12:00:00 AM` as an ISO date; nothing or no date is None."""
    found = _DATES.get(raw, False)
    if found is not False:
        return found
    value = raw.strip()
    parsed = None
    if len(value) == 8 and value.isdigit():  # the register's own: no strptime per row
        try:
            parsed = dt.date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
        except ValueError:
            parsed = None
    else:
        for pattern, written in (
            ("%Y-%m-%d", value[:10]),
            ("%d-%m-%Y", value),
            ("%m/%d/%Y", value.split(" ")[0]),
        ):
            try:
                parsed = dt.datetime.strptime(written, pattern).date().isoformat()
                break
            except ValueError:
                continue
    if len(_DATES) < 100_000:
        _DATES[raw] = parsed
    return parsed


def _number(raw: str) -> int | None:
    value = raw.strip()
    # isdigit() alone takes "²", which int() refuses; isascii() keeps to 0-9.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class Memo(dict):
    """``memo[raw]``: ``clean(raw)``, computed once per distinct value (up to a bound)."""

    LIMIT = 500_000

    def __init__(self, clean: Callable):
        super().__init__()
        self.clean = clean

    def __missing__(self, raw):
        value = self.clean(raw)
        if len(self) < self.LIMIT:
            self[raw] = value
        return value


# A plate as RDW writes it, taken as it is (the register's millions of rows mostly are).
clean_plate = re.compile(r"[A-Z0-9]{1,16}").fullmatch

# NUL is dropped: PostgreSQL refuses it in text, and one NUL byte deep in a 7 GB file
# (past the first 64 KB, which _sniff checks) stopped the whole import.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": None})


def _copy_text(value) -> str:
    """A value as PostgreSQL's COPY text format writes it (NULL is \\N)."""
    return "\\N" if value is None else str(value).translate(_COPY_ESCAPES)


def _as_is(value):
    return value


def _cleaner(header: Header, generation: int, today: str, now: str, *, copy: bool) -> Callable:
    """A function of a file row to the row written, or None for a row without its key.

    With ``copy`` each value comes as COPY's text format has it, so a row is one join
    (csv.writer took as long as the cleaning). Values that repeat across millions of
    vehicles (brands, colours, dates, prices, fuels) are cleaned once per distinct text
    (``Memo``). Short rows are padded to the header's width plus one empty cell, where a
    column the file lacks (an optional one) points."""
    out = _copy_text if copy else _as_is
    width = max(header.at.values()) + 2
    generation_out, today_out, now_out = out(generation), out(today), out(now)

    def at(key: str) -> int:
        return header.at.get(key, width - 1)

    def padded(row: list[str]) -> list[str]:
        return row if len(row) >= width else row + [""] * (width - len(row))

    def text_memo(length: int) -> Memo:
        return Memo(lambda raw: out(_text(raw, length)))

    def plate_of(raw: str) -> str | None:
        plate = raw if clean_plate(raw) else _plate(raw)
        return plate if plate and len(plate) <= 16 else None

    dates = Memo(lambda raw: out(_date(raw)))
    numbers = Memo(lambda raw: out(_number(raw)))

    if header.dataset == Dataset.vehicles.value:
        plate_at, kind_at, brand_at, name_at = (
            at(key) for key in ("kenteken", "voertuigsoort", "merk", "handelsbenaming")
        )
        apk_at, first_at, holder_at = (
            at(key) for key in ("vervaldatum_apk", "datum_eerste_toelating", "datum_tenaamstelling")
        )
        colour_at, body_at, seats_at, price_at = (
            at(key)
            for key in ("eerste_kleur", "inrichting", "aantal_zitplaatsen", "catalogusprijs")
        )
        kinds, brands, bodies = text_memo(60), text_memo(60), text_memo(60)
        names, colours = text_memo(120), text_memo(40)

        def vehicle(row):
            if len(row) < width:
                row = padded(row)
            plate = row[plate_at]
            if not clean_plate(plate):  # inline: the plate of every row of millions
                plate = plate_of(plate)
                if plate is None:
                    return None
            return (
                generation_out,
                plate,
                kinds[row[kind_at]],
                brands[row[brand_at]],
                names[row[name_at]],
                dates[row[apk_at]],
                dates[row[first_at]],
                dates[row[holder_at]],
                colours[row[colour_at]],
                bodies[row[body_at]],
                numbers[row[seats_at]],
                numbers[row[price_at]],
                today_out,
            )

        return vehicle
    if header.dataset == Dataset.fuel.value:
        plate_at, sequence_at, fuel_at = (
            at(key) for key in ("kenteken", "brandstof_volgnummer", "brandstof_omschrijving")
        )
        fuels = Memo(lambda raw: _text(raw, 60))
        sequences = Memo(lambda raw: out(_number(raw) or 1))

        def fuel(row):
            if len(row) < width:
                row = padded(row)
            plate = plate_of(row[plate_at])
            name = fuels[row[fuel_at]]
            if plate is None or not name:
                return None
            return (generation_out, plate, sequences[row[sequence_at]], out(name))

        return fuel
    if header.dataset == Dataset.recall_status.value:
        reference_at, plate_at, code_at = (
            at(key) for key in ("referentiecode_rdw", "kenteken", "code_status")
        )

        def status(row):
            if len(row) < width:
                row = padded(row)
            plate = plate_of(row[plate_at])
            reference = row[reference_at].strip()
            code = row[code_at].strip().upper()[:1]
            if plate is None or not reference or len(reference) > 40 or not code:
                return None
            return (generation_out, plate, out(reference), out(code), now_out)

        return status
    reference_at, published_at, defect_at, remedy_at, consequences_at = (
        at(key)
        for key in (
            "referentiecode_rdw",
            "publicatiedatum_rdw",
            "omschrijving_defect",
            "beschrijving_van_het_herstel",
            "mogelijke_gevolgen",
        )
    )

    def details(row):
        if len(row) < width:
            row = padded(row)
        reference = row[reference_at].strip()
        if not reference or len(reference) > 40:
            return None
        return (
            generation_out,
            out(reference),
            dates[row[published_at]],
            out(_text(row[defect_at], 4000)),
            out(_text(row[remedy_at], 4000)),
            out(_text(row[consequences_at], 4000)),
        )

    return details


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

    columns = WRITTEN[run.dataset]
    stream = _Stream(pieces())
    with session.connection().connection.cursor() as cursor:
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
        chunk: dict[tuple, tuple] = {}
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


def _timestamp(session: Session, now: dt.datetime) -> str:
    """``now`` as the dialect stores a UTC timestamp (SQLite keeps no zone)."""
    if session.get_bind().dialect.name == "sqlite":
        return now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return now.isoformat()


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
    claimed = session.execute(
        update(RegisterImport)
        .where(RegisterImport.id == import_id, RegisterImport.state == ImportState.queued.value)
        .values(state=ImportState.running.value, started_at=utcnow())
    ).rowcount
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


def rows_table(session: Session, run: RegisterImport) -> Table:
    """Where the import's rows go: on PostgreSQL a big dataset's partition of its own,
    created now (committed before the rows come, so an import that dies leaves a table
    the next switch's purge finds); else the dataset's table."""
    table = TABLES[run.dataset]
    if run.dataset in PARTITIONED and session.get_bind().dialect.name == "postgresql":
        return _own_partition(session, run.dataset, run.id)
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
    clean = _cleaner(
        header, run.id, today.isoformat(), _timestamp(session, utcnow()), copy=postgresql
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
            _write(session, run.dataset, rows)
        run.rows += len(rows)
        run.skipped += skipped
        run.read_bytes = read
        yield


def switch(session: Session, run: RegisterImport, into: Table) -> None:
    """The rows written are checked against the previous import (Refused when none, or
    fewer than MIN_SHARE of its), vanished plates kept, and the import made `done`: the
    caller's commit is the switch, from which on readers see this generation."""
    dataset = run.dataset
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
        _key(session, dataset, into)
    run.kept = _keep_vanished(session, dataset, run.id, into)
    if into is not table:
        _attach(session, dataset, into, run.id)
    run.state = ImportState.done.value
    run.finished_at = utcnow()


def purge_old(session: Session, run: RegisterImport) -> None:
    """After the switch: the generations before this one, which no reader sees any more."""
    _purge(session, run.dataset, before=run.id)


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


def _own_partition(session: Session, dataset: str, generation: int) -> Table:
    """PostgreSQL, a dataset of millions of rows: the table of the import's own rows, with
    neither key nor index while they arrive, attached as its generation's partition at the
    switch (migration 0026 says why). A table of that name left by an import that died is
    replaced."""
    parent = TABLES[dataset]
    own = parent.to_metadata(MetaData(), name=_partition_name(dataset, generation))
    session.execute(text(f"DROP TABLE IF EXISTS {own.name}"))
    session.execute(
        text(
            f"CREATE TABLE {own.name} (LIKE {parent.name} INCLUDING DEFAULTS, "
            # Lets ATTACH PARTITION trust the rows instead of reading them all again.
            f"CHECK (generation = {int(generation)}))"
        )
    )
    return own


def _partition_name(dataset: str, generation: int) -> str:
    return f"{TABLES[dataset].name}_g{int(generation)}"


def _key(session: Session, dataset: str, own: Table) -> None:
    """The import's own table keyed as the register is, built once over all its rows (a
    sorted build, faster than keeping the key current row by row); a plate twice in the
    file fails it here as it would have failed the COPY. Before the copy of vanished
    plates, which then looks each old plate up in it: the first import's few old rows no
    longer hash a million new ones."""
    key = ", ".join(column.name for column in TABLES[dataset].primary_key.columns)
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    session.execute(text(f"ALTER TABLE {own.name} ADD PRIMARY KEY ({key})"))


def _attach(session: Session, dataset: str, own: Table, generation: int) -> None:
    """The import's own table becomes its generation's partition. Not committed: the
    switch commits it."""
    parent = TABLES[dataset]
    session.execute(
        text(
            f"ALTER TABLE {parent.name} ATTACH PARTITION {own.name} "
            f"FOR VALUES IN ({int(generation)})"
        )
    )


def _purge(session: Session, dataset: str, *, before: int) -> None:
    """The generations readers no longer see go: on PostgreSQL a big dataset's partitions
    (and tables of imports that died before attaching theirs) are dropped whole, which
    leaves nothing for VACUUM; rows without a partition of their own are deleted."""
    table = TABLES[dataset]
    if dataset in PARTITIONED and session.get_bind().dialect.name == "postgresql":
        names = session.scalars(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = current_schema()::regnamespace AND relname ~ :pattern"
            ),
            {"pattern": f"^{table.name}_g[0-9]+$"},
        ).all()
        for name in names:
            if int(name.rsplit("_g", 1)[1]) < before:
                session.execute(text(f"DROP TABLE {name}"))
    session.execute(delete(table).where(table.c.generation < before))


def _keep_vanished(session: Session, dataset: str, generation: int, into: Table) -> int:
    """Copy into ``into`` what the register knew of keys the new file lacks (a vanished
    plate keeps its values and the day it was last seen). Returns how many rows were
    kept."""
    key = KEPT_BY.get(dataset)
    if key is None:
        return 0
    table = TABLES[dataset]
    old = table.alias("old")
    new = into.alias("new")
    columns = [c for c in WRITTEN[dataset] if c != "generation"]
    kept = (
        select(literal(generation), *[old.c[c] for c in columns])
        .where(old.c.generation == current_generation(dataset))
        .where(
            ~select(new.c[key])
            .where(new.c.generation == generation, new.c[key] == old.c[key])
            .exists()
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # The anti-join hashes every plate of the new file: in memory, not in batches
        # written to disk by the 4 MB default.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    result = session.execute(into.insert().from_select(["generation", *columns], kept))
    return max(result.rowcount or 0, 0)


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
    run = session.get(RegisterImport, run.id)
    if run.dataset in PARTITIONED and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"DROP TABLE IF EXISTS {_partition_name(run.dataset, run.id)}"))
    elif run.dataset:
        table = TABLES[run.dataset]
        session.execute(delete(table).where(table.c.generation == run.id))
    run.state = state.value
    run.reason, run.reason_params = reason, params or None
    run.finished_at = utcnow()
    session.flush()


def clean_records(
    session: Session, dataset: str, records: list[dict], *, generation: int, today: dt.date
) -> list[tuple]:
    """Rows of RDW's API (objects keyed by the API's column names, values as text, a null
    left out) cleaned exactly as a file's rows are: tuples in ``WRITTEN[dataset]``'s
    order, a key twice counting once (the later). The nightly refresh writes them."""
    names = REQUIRED[dataset] + OPTIONAL[dataset]
    header = Header(dataset, "utf-8", ",", {name: index for index, name in enumerate(names)})
    clean = _cleaner(
        header, generation, today.isoformat(), _timestamp(session, utcnow()), copy=False
    )
    key = itemgetter(1, 2) if dataset in KEYED_BY_TWO else itemgetter(1)
    rows: dict = {}
    for record in records:
        # No NUL into PostgreSQL (it refuses it in text): an answer with one would stop
        # every night at the same batch.
        row = clean([str(record.get(name) or "").replace("\x00", "") for name in names])
        if row is not None:
            rows[key(row)] = row
    return list(rows.values())
