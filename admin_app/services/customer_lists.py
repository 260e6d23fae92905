"""Reading a garage's customer list (R-BJ-1, R-BJ-2) as Dutch Excel writes it.

CSV: encoding BOM → strict UTF-8 → Windows-1252; separator `;`, `,` or tab; any line
ends; quoted fields with separators and line breaks. XLSX: the first sheet, read within
bounds by `services/workbooks` (issue 13). Columns are matched by header name; each row is
checked on its own and gets a plan (create, update, unchanged, refused + reason) against
the database later.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from flask_babel import lazy_gettext as _l

from admin_app.domain import reasons as reasons_module
from admin_app.domain.dates import read_date
from admin_app.domain.errors import InvalidInput, TooLarge
from admin_app.domain.plates import normalize_plate, side_code
from admin_app.domain.reasons import Reason
from admin_app.models import BatchRow, Customer, Passport
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.services.emails import valid_email
from admin_app.services.exports import FORMULA_GUARD, formula_like

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000

# Column → the header names people use for it (compared without case, spaces, - and _).
HEADERS = {
    "plate": ("kenteken", "plate", "licence plate", "license plate", "registration"),
    "email": ("email", "e-mail", "emailadres", "e-mailadres"),
    "last_name": ("achternaam", "last name", "surname"),
    "first_name": ("voornaam", "first name"),
    "infix": ("tussenvoegsel", "infix"),
    "street": ("straat", "street"),
    "house_number": ("huisnummer", "house number"),
    "postcode": ("postcode", "zip"),
    "city": ("plaats", "city"),
    "phone": ("telefoon", "phone"),
    "customer_number": ("klantnummer", "customer number"),
    "apk_expiry": ("apk_vervaldatum", "apk expiry"),
    "brand": ("merk", "brand"),
    "model": ("model",),
}
REQUIRED = ("plate", "email", "last_name")
TEXT_COLUMNS = tuple(c for c in HEADERS if c not in ("plate", "email", "apk_expiry"))
# What the database holds: a longer cell is refused with its row, not at the nightly run.
# Plate and e-mail: the batch_row columns that keep a refused row; the APK date: room for
# a date with a time, which Excel's CSV may write.
MAX_LENGTH = {
    **{name: Customer.__table__.c[name].type.length for name in CONTACT_FIELDS},
    **{name: Passport.__table__.c[name].type.length for name in ("brand", "model")},
    "plate": BatchRow.__table__.c.plate.type.length,
    "email": BatchRow.__table__.c.email.type.length,
    "apk_expiry": 40,
}
MAX_REASON = BatchRow.__table__.c.reason.type.length


def _key(header: str) -> str:
    return re.sub(r"[\s\-_]", "", str(header or "")).lower()


ALIASES = {_key(name): column for column, names in HEADERS.items() for name in names}
# The passport export's status column (issue 15), not one of the list's own: a row it
# marks archived stands for a passport the garage archived, whose plate is free. Uploaded
# again it is skipped, as an empty row is, rather than making that passport anew.
STATUS = "status"
ALIASES.update({_key(name): STATUS for name in ("status", "state")})
ARCHIVED_WORDS = {"gearchiveerd", "archived"}


@dataclass
class ListRow:
    """One data row as read, normalized where possible, with why it is refused if so."""

    row_number: int
    values: dict = field(default_factory=dict)
    # Why it is refused: codes with their parameters (domain/reasons); empty if it is not.
    reasons: list[Reason] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    @property
    def reason_code(self) -> str | None:
        return reasons_module.codes(self.reasons) or None

    @property
    def reason(self) -> str | None:
        """The reasons in the current language."""
        return reasons_module.text(self.reason_code, self.reasons)

    @property
    def plate(self) -> str:
        return self.values.get("plate", "")

    @property
    def email(self) -> str:
        return self.values.get("email", "")


# --- reading the file ---------------------------------------------------------------------


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
        if all(_empty(cell) for cell in row):
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
        table = _read_xlsx(data)
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


def _read_xlsx(data: bytes) -> list[list]:
    # Not python-calamine: it sizes the sheet by its farthest cell before reading a value
    # (one cell at XFD1048576 asked for 512 GiB), and cannot be bounded (issue 13).
    from admin_app.services.workbooks import read_first_sheet

    return read_first_sheet(data)


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


def _csv_source(data: bytes):
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(_l("This is not a text (CSV) file or an Excel workbook."), field="file")
    text = decode_text(data)
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0] if text.strip() else ""
    delimiter = _delimiter(first_line)
    has_nul = "\x00" in text  # past the first 4 KB (issue 13)

    def rows():
        # csv's own limit (128 KiB a field) made one long cell look like an unclosed quote
        # and refused the whole file; the file's 20 MB bounds a field, and a long cell is
        # refused with its row (check_row). Process-wide, but only ever raised (issue 13).
        csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))
        # newline="" keeps quoted line breaks and accepts CRLF, LF and bare CR line ends.
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True
        )
        try:
            # Cell by cell only when there is a NUL at all (0.05 s per 100,000 rows of 14).
            yield from _without_nul(reader) if has_nul else reader
        except csv.Error:
            raise InvalidInput(
                _l("The CSV file is damaged (a quote is not closed)."), field="file"
            ) from None

    return rows


def _delimiter(header_line: str) -> str:
    # The header names hold no separators, so the most frequent candidate there wins;
    # csv.Sniffer guesses quoting rules too, and gets them wrong on CRLF files.
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def _trim(rows: list[list]) -> list[list]:
    # In place: a copy would hold a 100,000-row list twice at the upload's peak.
    trimmed = [row if isinstance(row, list) else list(row) for row in rows]
    while trimmed and all(_empty(c) for c in trimmed[-1]):
        trimmed.pop()
    for row in trimmed:
        while row and _empty(row[-1]):
            row.pop()
    return trimmed


# --- header and rows -----------------------------------------------------------------------


def map_header(header: list) -> dict[int, str]:
    """Column index → our field, by header name; InvalidInput names missing columns and
    columns that say the same thing twice."""
    mapping = match_columns(header, ALIASES)
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        names = ", ".join(HEADERS[c][0] for c in missing)
        raise InvalidInput(
            _l(
                "The list misses the column(s) %(names)s. The first row must hold the column "
                "names; download the template to see them.",
                names=names,
            ),
            field="file",
        )
    return mapping


def match_columns(header: list, aliases: dict[str, str]) -> dict[int, str]:
    """Column index → field for the header cells whose name (compared by `_key`) is in
    ``aliases``; other columns are ignored.

    Raises InvalidInput naming the columns when two of them mean one field — the same name
    twice, or two names of it (`kenteken` and `plate`): which of the two would count is a
    guess, and a wrong guess mails the passport to the wrong address (issue 13).
    """
    mapping: dict[int, str] = {}
    seen: dict[str, list[str]] = {}
    for index, name in enumerate(header):
        column = aliases.get(_key(name))
        if column:
            mapping[index] = column
            seen.setdefault(column, []).append(str(name).strip())
    twice = [names for names in seen.values() if len(names) > 1]
    if twice:
        raise InvalidInput(
            _l(
                "The columns %(names)s hold the same thing; keep one of them.",
                names="; ".join(", ".join(f"'{name}'" for name in names) for names in twice),
            ),
            field="file",
        )
    return mapping


@dataclass
class ReadList:
    """A file that passed the whole-file checks: its columns and its data rows."""

    mapping: dict[int, str]
    size: int  # data rows, trailing empty rows not counted
    source: Callable[[], Iterator[list]]

    def body(self) -> Iterator[list]:
        """The data rows, read afresh from the file."""
        rows = self.source()
        next(rows, None)  # the header
        return islice(rows, self.size)


def _empty(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_list(filename: str, data: bytes) -> ReadList:
    """The whole-file checks of R-BJ-2 (readable, header, required columns, size): raise
    InvalidInput or TooLarge saying what to fix, before anything is stored. One pass over
    the file counts its rows; the rows themselves are read again when they are checked."""
    source = row_source(filename, data)
    rows = source()
    header = next(rows, None)
    size = 0
    for index, cells in enumerate(rows, start=1):
        if not all(_empty(cell) for cell in cells):
            size = index  # trailing empty rows are not rows
    if header is None or all(_empty(cell) for cell in header):
        raise InvalidInput(
            _l("The file has no header row; download the template to see it."), field="file"
        )
    mapping = map_header(header)
    if not size:
        raise InvalidInput(_l("The list has column names but no customers."), field="file")
    if size > MAX_ROWS:
        raise TooLarge(
            _l("The list has %(count)s rows; at most 200,000 fit in one upload.", count=size),
            field="file",
        )
    return ReadList(mapping, size, source)


def check_rows(read: ReadList, *, progress=None, every: int = 5000) -> Iterator[ListRow]:
    """Every data row with its sheet row number (the header is row 1), checked on its own,
    one at a time (a large list is never held twice); ``progress(done)`` is called every
    ``every`` rows."""
    first_row_of_plate: dict[str, int] = {}
    for offset, cells in enumerate(read.body()):
        if progress and offset and offset % every == 0:
            progress(offset)
        row = check_row(
            offset + 2,
            {column: cells[i] if i < len(cells) else None for i, column in read.mapping.items()},
        )
        if row is None:
            continue  # an empty row in the middle
        if not row.refused:
            earlier = first_row_of_plate.get(row.plate)
            if earlier is not None:
                row.reasons.append(("plate_repeated", {"row": earlier}))
            else:
                first_row_of_plate[row.plate] = row.row_number
        yield row


def parse_list(filename: str, data: bytes) -> list[ListRow]:
    """read_list and check_rows in one go."""
    return list(check_rows(read_list(filename, data)))


def check_row(row_number: int, raw: dict) -> ListRow | None:
    raw = dict(raw)
    if _cell_text(raw.pop(STATUS, None)).lower() in ARCHIVED_WORDS:
        return None
    values = {column: _cell_text(value) for column, value in raw.items()}
    if not any(values.values()):
        return None
    row = ListRow(row_number)
    reasons = row.reasons
    # A cell longer than its column refuses the row and is kept cut short: the refused row
    # still fits batch_row, and its reason does not repeat 200 KB (issue 13).
    too_long = set()
    for column, value in values.items():
        if len(value) > MAX_LENGTH[column]:
            reasons.append(
                ("cell_too_long", {"column": HEADERS[column][0], "length": MAX_LENGTH[column]})
            )
            values[column] = value[: MAX_LENGTH[column]]
            too_long.add(column)
    plate = normalize_plate(values.get("plate"))
    row.values["plate"] = plate
    email = (values.get("email") or "").strip()
    row.values["email"] = email
    for column in TEXT_COLUMNS:
        if values.get(column):
            row.values[column] = values[column]
    if not plate:
        reasons.append(("plate_missing", {}))
    elif "plate" in too_long:
        pass
    elif len(plate) != 6 or side_code(plate) is None:
        reasons.append(("plate_invalid", {"plate": values.get("plate")}))
    if not email:
        reasons.append(("email_missing", {}))
    elif "email" not in too_long:
        normalized = valid_email(email)
        if normalized is None:
            reasons.append(("email_invalid", {"email": email}))
        else:
            row.values["email"] = normalized
    if not values.get("last_name"):
        reasons.append(("last_name_missing", {}))
    apk = raw.get("apk_expiry")
    if apk not in (None, "") and "apk_expiry" not in too_long:
        parsed = read_date(apk)
        if parsed is None:
            reasons.append(("apk_expiry_invalid", {"value": values.get("apk_expiry")}))
        else:
            row.values["apk_expiry"] = parsed
    return row


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a workbook gives whole numbers as floats: 5000.0 → 5000
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d-%m-%Y")
    return without_formula_guard(str(value).strip()).strip()


def without_formula_guard(text: str) -> str:
    """The text an export wrote as ``'=…``, ``'+31…``, ``'-…`` (services/exports
    .neutralized, so that Excel shows it rather than evaluates it) as it was stored: an
    exported list uploaded again changes nothing (issue 15). An apostrophe before anything
    else is the customer's own ('s-Hertogenbosch) and stays."""
    if text.startswith(FORMULA_GUARD) and formula_like(text):
        return text[1:]
    return text


# --- the template (R-BJ-1) -----------------------------------------------------------------

TEMPLATE_HEADER = [names[0] for names in HEADERS.values()]
TEMPLATE_EXAMPLE = [
    "12-ABC-3",
    "jan.jansen@example.nl",
    "Jansen",
    "Jan",
    "",
    "Dorpsstraat",
    "12a",
    "1234 AB",
    "Utrecht",
    "06-12345678",
    "100001",
    "31-12-2027",
    "Volkswagen",
    "Golf",
]


def template_csv() -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    return xlsx_bytes([TEMPLATE_HEADER, TEMPLATE_EXAMPLE], sheet_title="Klanten")


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# An amount in euros as Dutch Excel shows it (€ 10.141,85; the separators follow the
# reader's locale), and a share as a percentage.
EURO_FORMAT = '"€" #,##0.00'
PERCENT_FORMAT = "0%"
COUNT_FORMAT = "0"


def xlsx_bytes(
    rows: Iterator[list] | list[list],
    *,
    sheet_title: str,
    number_formats: dict[int, str] | None = None,
) -> bytes:
    """An XLSX in which every cell is text, so nothing a user typed becomes a formula;
    except in the columns of ``number_formats`` (index → Excel number format), where an
    int, float or Decimal is a number a spreadsheet can add up (R-CP-4)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    from openpyxl.cell import WriteOnlyCell

    number_formats = number_formats or {}
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            if (
                index in number_formats
                and isinstance(value, int | float | Decimal)
                and not isinstance(value, bool)
            ):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_formats[index]
            else:
                cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
                cell.data_type = "s"  # "=SUM(…)", "+31…", "@x" stay text
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
