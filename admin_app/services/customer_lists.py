"""Reading a garage's customer list (R-BJ-1, R-BJ-2) as Dutch Excel writes it.

The file is read by `services/tables` (CSV or the first sheet of an XLSX, the reader
invoices and recalls share). Columns are matched by header name; each row is checked on
its own and gets a plan (create, update, unchanged, refused + reason) against the database
later.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
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
from admin_app.services.tables import (
    MAX_ROWS,
    empty_cell,
    header_aliases,
    match_columns,
    row_source,
)

# Column → the header names people use for it (compared by tables.header_key).
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

ALIASES = header_aliases(HEADERS)
# The passport export's status column (issue 15), not one of the list's own: a row it
# marks archived stands for a passport the garage archived, whose plate is free. Uploaded
# again it is skipped, as an empty row is, rather than making that passport anew.
STATUS = "status"
ALIASES.update(header_aliases({STATUS: ("status", "state")}))
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


def read_list(filename: str, data: bytes) -> ReadList:
    """The whole-file checks of R-BJ-2 (readable, header, required columns, size): raise
    InvalidInput or TooLarge saying what to fix, before anything is stored. One pass over
    the file counts its rows; the rows themselves are read again when they are checked."""
    source = row_source(filename, data)
    rows = source()
    header = next(rows, None)
    size = 0
    for index, cells in enumerate(rows, start=1):
        if not all(empty_cell(cell) for cell in cells):
            size = index  # trailing empty rows are not rows
    if header is None or all(empty_cell(cell) for cell in header):
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
    """One data row read and checked on its own (field → cell as read); None for a row to
    skip: an empty one, or one the passport export marks archived."""
    raw = dict(raw)
    if _cell_text(raw.pop(STATUS, None)).lower() in ARCHIVED_WORDS:
        return None
    values = {column: _cell_text(value) for column, value in raw.items()}
    if not any(values.values()):
        return None
    row = ListRow(row_number)
    reasons = row.reasons
    too_long = _cut_long_cells(values, reasons)
    row.values["plate"] = _checked_plate(values, too_long, reasons)
    row.values["email"] = _checked_email(values, too_long, reasons)
    for column in TEXT_COLUMNS:
        if values.get(column):
            row.values[column] = values[column]
    if not values.get("last_name"):
        reasons.append(("last_name_missing", {}))
    apk = _checked_apk_expiry(raw.get("apk_expiry"), values, too_long, reasons)
    if apk is not None:
        row.values["apk_expiry"] = apk
    return row


def _cut_long_cells(values: dict, reasons: list[Reason]) -> set[str]:
    """The columns whose cell is longer than the database holds, each refusing the row;
    the cell is kept cut short, so the refused row still fits batch_row and its reason
    does not repeat 200 KB (issue 13)."""
    too_long = set()
    for column, value in values.items():
        if len(value) > MAX_LENGTH[column]:
            reasons.append(
                ("cell_too_long", {"column": HEADERS[column][0], "length": MAX_LENGTH[column]})
            )
            values[column] = value[: MAX_LENGTH[column]]
            too_long.add(column)
    return too_long


def _checked_plate(values: dict, too_long: set[str], reasons: list[Reason]) -> str:
    """The plate normalized (12-ABC-3 → 12ABC3); a reason when it is missing or no Dutch
    plate (a cut-short one is refused as too long already)."""
    plate = normalize_plate(values.get("plate"))
    if not plate:
        reasons.append(("plate_missing", {}))
    elif "plate" not in too_long and (len(plate) != 6 or side_code(plate) is None):
        reasons.append(("plate_invalid", {"plate": values.get("plate")}))
    return plate


def _checked_email(values: dict, too_long: set[str], reasons: list[Reason]) -> str:
    """The e-mail address normalized when it is one; else as typed, with a reason."""
    email = (values.get("email") or "").strip()
    if not email:
        reasons.append(("email_missing", {}))
        return email
    if "email" in too_long:
        return email
    normalized = valid_email(email)
    if normalized is None:
        reasons.append(("email_invalid", {"email": email}))
        return email
    return normalized


def _checked_apk_expiry(cell, values: dict, too_long: set[str], reasons: list[Reason]):
    """The APK date of the cell as read (text, or a date from a workbook); None for an
    empty cell and, with a reason, for one that is no date."""
    if cell in (None, "") or "apk_expiry" in too_long:
        return None
    parsed = read_date(cell)
    if parsed is None:
        reasons.append(("apk_expiry_invalid", {"value": values.get("apk_expiry")}))
    return parsed


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
