"""Lists to Excel (issue 15): what a list screen shows, as CSV or XLSX.

An export is a list's columns and the rows of the query the screen runs — its filters,
search and order, within the user's row scope (admin_app.scope applies to every ORM
statement, so an export cannot reach rows the screen would not show) — without paging.

How another list plugs in
-------------------------
1. Describe the list once, in its view module or a service::

       INVOICE_EXPORT = ExportList(
           name="invoices",                 # the list in the audit log and the file name
           title=_l("Invoices"),
           columns=(
               ExportColumn(_l("Date"), DATE, lambda row: row.invoice_date),
               ExportColumn(_l("Amount"), MONEY, lambda row: row.amount),
               ExportColumn(_l("State"), TEXT, lambda row: row.state, words=STATE_LABELS),
           ),
           rows=None,  # or a function: the screen's query → the query the columns read
       )

   ``rows`` may turn the screen's ORM query into a column query (``with_entities`` and
   joins): 1,000,000 passports load in a fraction of the time of as many objects.
2. In the view (a ConsoleModelView), mix in ``views.exports.ExportableList`` before the
   view class, set ``export_list = INVOICE_EXPORT``, add ``"export"`` to
   ``include_route_methods`` and ``list_template = "console/list_export.html"`` (the
   "CSV" / "Excel" links carrying the screen's arguments). A list that is not FAB's
   (its own template) builds its query itself and calls ``views.exports.export_response``.
3. Tests: the rows of the file are the rows of the screen, for a filter and a scope.

Formats: CSV streams from the web process in batches (UTF-8 with BOM, ``;``, CRLF, as
Dutch Excel opens it); XLSX is built in the request up to XLSX_IN_REQUEST rows and by a
worker above that (services.export_files). Dates, times and numbers are typed cells in
XLSX and Dutch text in CSV; text can never become a formula (``neutralized``).
Every export is audited (``audit_export``); no list's columns hold a mail body or token.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import islice
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Query, Session

from admin_app.domain.clock import AMSTERDAM
from admin_app.domain.errors import TooLarge
from admin_app.services.audit import Actor, record_bulk

TEXT, DATE, DATETIME, NUMBER, MONEY = "text", "date", "datetime", "number", "money"
KINDS = (TEXT, DATE, DATETIME, NUMBER, MONEY)
CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)

# Up to this many rows an XLSX is built in the request (100,000 passport rows: 13 s, a
# process peak of 90 MB — openpyxl writes its XML in Python, without lxml); above it a
# worker builds it (services.export_files).
XLSX_IN_REQUEST = 100_000
# An XLSX sheet holds 1,048,576 rows, the header one of them.
XLSX_MAX_ROWS = 1_048_575
# Rows fetched and written per step: bounds the memory of a streamed CSV.
BATCH = 2000

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"

# A spreadsheet reads a cell starting with one of these as a formula (or, for a tab or
# CR, strips it and reads what follows): in CSV such text gets a leading apostrophe,
# which the customer-list reader strips again (customer_lists.without_formula_guard).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARD = "'"

# How a date and a moment read in the file: as on the screens (Amsterdam time).
DATE_PATTERN, DATETIME_PATTERN = "%d-%m-%Y", "%d-%m-%Y %H:%M"
XLSX_DATE_FORMAT, XLSX_DATETIME_FORMAT = "dd-mm-yyyy", "dd-mm-yyyy hh:mm"
XLSX_NUMBER_FORMAT = "0"
XLSX_EURO_FORMAT = '"€" #,##0.00'


@dataclass(frozen=True)
class ExportColumn:
    """One column: its header (in the user's language), its kind, and its value in a row.

    ``words`` maps stored values (a state, a kind) to what the screen shows; they are
    translated once per export, not once per row."""

    label: Any
    kind: str
    value: Callable[[Any], Any]
    words: Mapping[str, Any] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class ExportList:
    """A list screen as a file: its name (audit, file name), title and columns, and
    optionally ``rows``: the screen's query → the query whose rows the columns read."""

    name: str
    title: Any
    columns: tuple[ExportColumn, ...]
    rows: Callable[[Query], Query] | None = None

    def __post_init__(self):
        # Known by name: the audit log names an export's list by its title.
        _LISTS[self.name] = self

    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]

    def query(self, screen_query: Query) -> Query:
        return self.rows(screen_query) if self.rows else screen_query

    def readers(self) -> list[Callable[[Any], Any]]:
        """Per column, row → value, with its words translated now (in the request's
        language) and looked up per row."""
        readers: list[Callable[[Any], Any]] = []
        for column in self.columns:
            if column.words is None:
                readers.append(column.value)
            else:
                words = {key: str(text) for key, text in column.words.items()}
                readers.append(partial(_worded, column.value, words))
        return readers


def _word(value, words: dict[str, str]):
    return words.get(value, value) if value is not None else None


def _worded(value: Callable[[Any], Any], words: dict[str, str], row):
    return _word(value(row), words)


# --- counting and deciding -------------------------------------------------------------------


# A screen whose rows are worked out in Python (the fleet dashboard's marks, advice and
# recalls over a few hundred cars) hands them over as a list instead of a query.
Rows = Query | list


def count_rows(query: Rows) -> int:
    """How many rows the export will hold (the screen's count, without its order)."""
    return len(query) if isinstance(query, list) else query.order_by(None).count()


def check_xlsx_fits(rows: int) -> None:
    """TooLarge, offering CSV, for more rows than a sheet holds."""
    if rows > XLSX_MAX_ROWS:
        from flask_babel import format_decimal

        raise TooLarge(
            _l(
                "This list has %(count)s rows; an Excel sheet holds at most %(most)s. "
                "Download it as CSV, or narrow the list with a filter.",
                count=format_decimal(rows),
                most=format_decimal(XLSX_MAX_ROWS),
            )
        )


def xlsx_in_background(rows: int) -> bool:
    return rows > XLSX_IN_REQUEST


# --- CSV -------------------------------------------------------------------------------------


def neutralized(text: str) -> str:
    """Text a spreadsheet cannot read as a formula: a leading apostrophe before ``=``,
    ``+``, ``-``, ``@``, a tab or a CR."""
    return FORMULA_GUARD + text if formula_like(text) else text


def formula_like(text: str) -> bool:
    """Text that starts as a formula, after any apostrophes. The customer-list reader
    strips one apostrophe from such text (without_formula_guard), so a value stored with
    its own ("'=Dorpsstraat", as Excel users type it) is exported with one more: an
    exported list uploaded again changes nothing."""
    return text.lstrip(FORMULA_GUARD).startswith(FORMULA_STARTS)


def csv_value(kind: str, value) -> str:
    """A value as Dutch Excel reads it from CSV: dates dd-mm-yyyy, times in Amsterdam,
    a decimal comma, no thousands separator."""
    if value is None or value == "":
        return ""
    if kind == DATETIME and isinstance(value, dt.datetime):
        return value.astimezone(AMSTERDAM).strftime(DATETIME_PATTERN)
    if kind in (DATE, DATETIME) and isinstance(value, dt.date):
        return value.strftime(DATE_PATTERN)
    if kind == MONEY and isinstance(value, int | float | Decimal):
        return f"{Decimal(str(value)):.2f}".replace(".", ",")
    if kind == NUMBER and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value).replace(".", ",")
    return neutralized(str(value))


def csv_chunks(export: ExportList, query: Query, *, batch: int = BATCH) -> Iterator[bytes]:
    """The file in pieces, each a batch of rows: the header (after a BOM) first, before any
    row is read, so the first byte leaves at once; the rows are fetched ``batch`` at a time
    (a server-side cursor on PostgreSQL), so memory does not grow with the list."""
    kinds = [column.kind for column in export.columns]
    readers = export.readers()
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralized(label) for label in export.header()])
    yield b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    for rows in _batches(export.query(query), batch):
        out.seek(0)
        out.truncate()
        writer.writerows(
            [csv_value(kind, read(row)) for kind, read in zip(kinds, readers, strict=True)]
            for row in rows
        )
        yield out.getvalue().encode("utf-8")


def _batches(query: Rows, size: int) -> Iterator[list]:
    rows = iter(query if isinstance(query, list) else query.yield_per(size))
    while batch := list(islice(rows, size)):
        yield batch


# --- XLSX ------------------------------------------------------------------------------------


def xlsx_rows(export: ExportList, query: Query, *, batch: int = BATCH) -> Iterator[list]:
    """The rows as typed values, header first (for write_xlsx)."""
    yield export.header()
    readers = export.readers()
    for rows in _batches(export.query(query), batch):
        for row in rows:
            yield [read(row) for read in readers]


def write_xlsx(
    export: ExportList,
    rows: Iterable[list],
    target,
    *,
    progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> int:
    """Write the header and rows into ``target`` (a path or binary file) as one sheet;
    returns the data rows written. Dates and moments are date cells, numbers and amounts
    number cells; every other value is a string cell, which no spreadsheet evaluates
    ("=SUM(…)", "+31…", "@x" stay text). ``progress(done)`` every ``every`` rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(str(export.title)))
    kinds = [column.kind for column in export.columns]
    written = -1
    for values in rows:
        cells = []
        header = written < 0
        for kind, value in zip(kinds, values, strict=True):
            cells.append(_xlsx_cell(sheet, WriteOnlyCell, TEXT if header else kind, value))
        sheet.append(cells)
        written += 1
        if progress and written and written % every == 0:
            progress(written)
    workbook.save(target)
    return max(written, 0)


def xlsx_bytes(export: ExportList, query: Query) -> bytes:
    out = io.BytesIO()
    write_xlsx(export, xlsx_rows(export, query), out)
    return out.getvalue()


def _xlsx_cell(sheet, cell_class, kind: str, value):
    if value is None or value == "":
        return None
    if kind == DATETIME and isinstance(value, dt.datetime):
        # Excel has no time zones: the moment as the garage reads it, in Amsterdam.
        local = value.astimezone(AMSTERDAM).replace(tzinfo=None) if value.tzinfo else value
        cell = cell_class(sheet, value=local)
        cell.number_format = XLSX_DATETIME_FORMAT
        return cell
    if kind in (DATE, DATETIME) and isinstance(value, dt.date):
        cell = cell_class(sheet, value=value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    if (
        kind in (NUMBER, MONEY)
        and isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
    ):
        cell = cell_class(sheet, value=value)
        cell.number_format = XLSX_EURO_FORMAT if kind == MONEY else _number_format(value)
        return cell
    text = str(value)
    if text.startswith(FORMULA_GUARD) and formula_like(text):
        text = FORMULA_GUARD + text  # the reader strips one (see formula_like)
    if not text.startswith("="):
        # openpyxl makes a string cell of any other text (Excel never evaluates a string
        # cell); a plain value spares a cell object per cell (100,000 rows: 16 s → 13 s).
        return text
    cell = cell_class(sheet, value=text)
    cell.data_type = "s"  # a string cell, though it starts like a formula
    return cell


def _number_format(value) -> str:
    return XLSX_NUMBER_FORMAT if float(value).is_integer() else "0.##"


def _sheet_title(title: str) -> str:
    # Excel's limits: 31 characters, none of []:*?/\ .
    cleaned = "".join("-" if char in "[]:*?/\\" else char for char in title).strip()
    return (cleaned or "Export")[:31]


# --- the file name and the audit -------------------------------------------------------------


def file_name(export: ExportList, fmt: str, now: dt.datetime) -> str:
    """The list's title in the reader's language, then the moment in Amsterdam time: e.g.
    autopaspoorten-2026-12-06-0915.csv (passports-… in English) — a Dutch garage's
    downloads were named in English. ASCII only, as a Content-Disposition file name."""
    words = unicodedata.normalize("NFKD", str(export.title)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-") or export.name
    return f"{slug}-{now.astimezone(AMSTERDAM):%Y-%m-%d-%H%M}.{fmt}"


def audit_export(
    session: Session,
    actor: Actor,
    export: ExportList,
    *,
    fmt: str,
    filters: str,
    rows: int,
    garage_id: int | None,
) -> None:
    """One audit entry (R-SEC-2) per export: who, which list, the filter in words, the
    number of rows and the format. Nothing of the rows themselves."""
    record_bulk(
        session,
        actor,
        EXPORT_TABLE,
        [
            (
                "export",
                None,
                {
                    "list": (None, export.name),
                    "filter": (None, filters),
                    "rows": (None, rows),
                    "format": (None, fmt),
                },
            )
        ],
        garage_id=garage_id,
    )


EXPORT_TABLE = "export"
EXPORT_FORMATS = {CSV: "CSV", XLSX: "Excel"}
_LISTS: dict[str, ExportList] = {}


def export_list(name: str) -> ExportList:
    """The list registered under ``name`` (a worker-built file names its list so)."""
    return _LISTS[name]


def export_titles() -> dict[str, Any]:
    """Each list's name → its title, for the audit log's words."""
    return {name: export.title for name, export in _LISTS.items()}
