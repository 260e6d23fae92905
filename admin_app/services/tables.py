"""Reading a table someone uploads or downloads: one helper for every importer (issue 20).

Customer lists (R-BJ-1, R-BJ-2), invoices (R-CP) and recalls (R-IN-3) are uploads read
whole here: CSV as Dutch Excel writes it (encoding BOM → strict UTF-8 → Windows-1252;
separator `;`, `,` or tab; any line ends; quoted fields with separators and line breaks)
or the first sheet of an XLSX, read within bounds by `services/workbooks` (issue 13). The
register's RDW files (services/register_import) are gigabytes and streamed from disk, but
their header is matched here as well.

An importer declares its columns as field → the header names people write for it (the
first is the one its messages name), and gets column index → field from
`match_columns(header, header_aliases(columns))`; which columns it requires, and what it
says when one is missing, stay its own.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping

from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput, TooLarge
from admin_app.services.workbooks import read_first_sheet

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# The separators a list's CSV may use, the first winning a tie (and a header of one column).
LIST_SEPARATORS = (";", ",", "\t")


# --- the header -------------------------------------------------------------------------------


def header_key(name) -> str:
    """A header cell as it is compared: `Vervaldatum APK`, `vervaldatum_apk`,
    `"Vervaldatum-APK"` and `VervaldatumAPK` are one column (case, spaces, `-`, `_`, quotes
    and a byte-order mark do not count)."""
    return _NOT_IN_KEY.sub("", str(name or "")).lower()


_NOT_IN_KEY = re.compile(r'[\s\-_"\ufeff]')


def header_aliases(columns: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """header key → field, from each field's header names (``{"plate": ("kenteken",
    "plate"), …}``)."""
    return {header_key(name): field for field, names in columns.items() for name in names}


def find_columns(header: list, aliases: Mapping[str, str]) -> tuple[dict[int, str], dict]:
    """Column index → field for the header cells whose `header_key` is in ``aliases``
    (other columns are ignored), and field → the header cells that name it more than once."""
    mapping: dict[int, str] = {}
    seen: dict[str, list[str]] = {}
    for index, name in enumerate(header):
        column = aliases.get(header_key(name))
        if column:
            mapping[index] = column
            seen.setdefault(column, []).append(str(name).strip())
    return mapping, {field: names for field, names in seen.items() if len(names) > 1}


def match_columns(header: list, aliases: Mapping[str, str]) -> dict[int, str]:
    """Column index → field for the header cells whose name (compared by `header_key`) is
    in ``aliases``; other columns are ignored.

    Raises InvalidInput naming the columns when two of them mean one field — the same name
    twice, or two names of it (`kenteken` and `plate`): which of the two would count is a
    guess, and a wrong guess mails the passport to the wrong address (issue 13).
    """
    mapping, twice = find_columns(header, aliases)
    if twice:
        raise InvalidInput(
            _l(
                "The columns %(names)s hold the same thing; keep one of them.",
                names="; ".join(
                    ", ".join(f"'{name}'" for name in names) for names in twice.values()
                ),
            ),
            field="file",
        )
    return mapping


def separator(line: str, candidates: tuple[str, ...] = LIST_SEPARATORS) -> str:
    """The most frequent of ``candidates`` in a header line, the first on a tie or when
    there is none: header names hold no separators. (csv.Sniffer guesses quoting rules too,
    and gets them wrong on CRLF files.)"""
    return max(candidates, key=line.count)


# --- reading an upload ------------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> list[list]:
    """All rows of the file as lists of cell values, trailing empty rows/cells dropped.

    Raises InvalidInput saying what to fix when the file cannot be read at all.
    """
    return _trim(_bounded_rows(row_source(filename, data)()))


# Empty lines a CSV may hold besides its rows: Excel leaves a few ";;;" lines where cells
# were cleared; 19 MB of bare line ends were 19 million lists, 1.7 GB (issue 13's review).
MAX_EMPTY_LINES = MAX_ROWS


def _bounded_rows(rows) -> list[list]:
    """The rows as a table, empty ones sharing one object; InvalidInput past MAX_ROWS rows
    or MAX_EMPTY_LINES empty lines."""
    table: list[list] = []
    empty_row: list = []
    empty = 0
    for row in rows:
        if all(empty_cell(cell) for cell in row):
            empty += 1
            if empty > MAX_EMPTY_LINES:
                raise InvalidInput(
                    _l("The file holds more than %(count)s empty lines.", count="200.000"),
                    field="file",
                )
            table.append(empty_row)
            continue
        if len(table) - empty >= MAX_ROWS + 1:
            raise TooLarge(
                _l(
                    "The list has %(count)s rows; at most 200,000 fit in one upload.",
                    count=f"> {MAX_ROWS:,}".replace(",", "."),
                ),
                field="file",
            )
        table.append(row)
    return table


def row_source(filename: str, data: bytes):
    """A function that yields the file's rows afresh each time it is called: a CSV is
    parsed as it is read (a large list is never held as a table), a workbook's first sheet
    is read whole, within bounds (services/workbooks). Raises InvalidInput for a file that
    is not a list at all."""
    if not data:
        raise InvalidInput(_l("The file is empty."), field="file")
    if len(data) > MAX_BYTES:
        raise TooLarge(
            _l("The file is larger than 20 MB; split it into smaller lists."), field="file"
        )
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
        # Not python-calamine: it sizes the sheet by its farthest cell before reading a
        # value (one cell at XFD1048576 asked for 512 GiB), and cannot be bounded (issue 13).
        table = read_first_sheet(data)
        return lambda: _without_nul(table)
    if name.endswith((".xls", ".ods")) or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InvalidInput(
            _l(
                "Save the list as .xlsx or .csv (this is an old Excel or another "
                "spreadsheet format)."
            ),
            field="file",
        )
    return _csv_source(data)


def _without_nul(rows) -> Iterator[list]:
    """The rows; InvalidInput naming the first row (header = 1) with a NUL character.

    The whole file is refused, not that row: no spreadsheet writes NUL into a CSV or a
    cell (a workbook can only smuggle one in as _x0000_), so a NUL means a damaged file or
    one that is not text (a binary, UTF-16 without its BOM, a legacy export padded with
    NULs), whose other rows deserve no more trust. And PostgreSQL refuses NUL in text and
    JSON, so it must stop here: customer lists, invoices and recalls all read through this.
    """
    for number, row in enumerate(rows, start=1):
        for cell in row:
            if isinstance(cell, str) and "\x00" in cell:
                raise InvalidInput(
                    _l(
                        "Row %(row)s holds a NUL character, which no spreadsheet writes: the "
                        "file is damaged or not a list saved from Excel. Save it again as CSV "
                        "UTF-8 or .xlsx.",
                        row=number,
                    ),
                    field="file",
                )
        yield row


# The five bytes Windows-1252 leaves undefined: a file holding one was written in another
# encoding (Shift-JIS uses 0x81 for its full-width space and punctuation).
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM, or Windows-1252 — what Excel
    saves as "CSV UTF-8" and "CSV (Windows/ANSI)" (R-BJ-1). InvalidInput for anything else.

    Windows-1252 turns any bytes into some text, so it is believed only when the file holds
    none of the bytes it leaves undefined and under 2% of its letters fall outside Latin-1
    and Latin Extended-A (Dutch, German, French, Polish, Czech …); otherwise Shift-JIS or
    a BOM followed by Windows text would be read as garbled names (issue 13).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _decoded(data[3:], "utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decoded(data, "utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _CP1252_UNDEFINED.search(data):
        raise _unknown_encoding()
    text = data.decode("cp1252")  # cannot fail without the five bytes
    # Counted without a Python loop over 20 MB: ASCII letters by bytes, the rest by regex.
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    foreign = 0
    for char in _NOT_ASCII.findall(text):
        if char.isalpha():
            letters += 1
            foreign += ord(char) > 0x17F
        elif char not in _CP1252_PUNCTUATION_IN_NAMES:
            # Shift-JIS kanji and kana decode mostly to symbols (‘¾˜“ ‰ ¼ …), seldom to
            # letters outside Latin Extended-A: names in a real list hold almost none.
            foreign += 1
    if foreign * 50 >= letters and foreign:  # 2% or more
        raise _unknown_encoding()
    return text


# What a Windows list's names and addresses do hold: apostrophes and quotes ('s-Hertogenbosch,
# auto's), dashes, a no-break space, the degree, ordinal and section signs, the euro.
_CP1252_PUNCTUATION_IN_NAMES = set(
    "\u2018\u2019\u201a\u201c\u201d\u2013\u2014\u00a0\u00b0\u00ba\u00aa\u00a7\u20ac\u00b4\u00b7"
)


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        # A BOM promises its encoding: bytes that break it are not silently replaced.
        raise _unknown_encoding() from None


def _unknown_encoding() -> InvalidInput:
    return InvalidInput(_l("Save the list as CSV UTF-8 or Windows (ANSI)."), field="file")


# A line with its end, as a file opened with newline="" gives it: CRLF, LF and a bare CR
# end a line, a quoted line break is joined back by csv. Not io.StringIO(text): it holds
# the text again at four bytes a character (54 MB for a 100,000-row list, issue 20).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    return (line.group() for line in _LINE.finditer(text))


def _csv_source(data: bytes):
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(_l("This is not a text (CSV) file or an Excel workbook."), field="file")
    text = decode_text(data)
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0] if text.strip() else ""
    delimiter = separator(first_line)
    has_nul = "\x00" in text  # past the first 4 KB (issue 13)

    def rows():
        # csv's own limit (128 KiB a field) made one long cell look like an unclosed quote
        # and refused the whole file; the file's 20 MB bounds a field, and a long cell is
        # refused with its row (check_row). Process-wide, but only ever raised (issue 13).
        csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))
        reader = csv.reader(_lines(text), delimiter=delimiter, quotechar='"', doublequote=True)
        try:
            # Cell by cell only when there is a NUL at all (0.05 s per 100,000 rows of 14).
            yield from _without_nul(reader) if has_nul else reader
        except csv.Error:
            raise InvalidInput(
                _l("The CSV file is damaged (a quote is not closed)."), field="file"
            ) from None

    return rows


def _trim(rows: list[list]) -> list[list]:
    # In place: a copy would hold a 100,000-row list twice at the upload's peak.
    trimmed = [row if isinstance(row, list) else list(row) for row in rows]
    while trimmed and all(empty_cell(c) for c in trimmed[-1]):
        trimmed.pop()
    for row in trimmed:
        while row and empty_cell(row[-1]):
            row.pop()
    return trimmed


def empty_cell(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
