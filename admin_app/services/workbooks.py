"""The first sheet of an uploaded .xlsx, read within fixed bounds (issue 13, R-BJ-1, R-BJ-2).

python-calamine builds a sheet's dense range as soon as the sheet is opened, sized by the
farthest cell: a 1,565-byte file with one cell at XFD1048576 asked it for 512 GiB and
killed the web process; a cell at GR200000 cost 1.76 GB and 15 s. It cannot be told to stop
earlier, and guessing which cells it counts (style-only ones? a claimed <dimension>?) would
make our bound only as good as that guess. So an upload is read here, in one streaming pass
over the sheet's XML: what is checked is exactly what is read. A value beyond row 200,001
or column 64 refuses the file the moment it is seen; empty and style-only cells, wherever
they are, cost nothing; and at most 200 MB of XML is inflated, however small the zip.

Only the standard library: zipfile to inflate member by member, expat to parse the chunks.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Callable
from xml.parsers import expat

from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput, TooLarge

MAX_ROWS = 200_001  # the header and 200,000 data rows (tables.MAX_ROWS)
MAX_COLUMNS = 64  # a customer list has 14; invoice and recall files fewer
# Filled cells of the first sheet: 200,000 rows of a customer list's 14 columns are 2.8
# million. Rows × columns within bounds could still be 12.8 million cells: ~600 MB of
# Python objects in the web process (found by the attack review of issue 13).
MAX_CELLS = 3_000_000
# All XML read from one upload, inflated. The 100,000-row sample list is 81 MB.
MAX_XML_BYTES = 200 * 1024 * 1024
CHUNK = 64 * 1024
MAX_PARTS = 10_000

_MAIN_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Excel's built-in number formats that show a date or time (ECMA-376 §18.8.30).
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_NOT_DATE_PARTS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def unreadable() -> InvalidInput:
    return InvalidInput(_l("The file cannot be read as an Excel workbook (.xlsx)."), field="file")


def read_first_sheet(data: bytes) -> list[list]:
    """The first sheet's rows (row 1 first) as lists of values: str, float, bool, date or
    datetime; None for an empty cell. A row holds cells up to its last value only; rows
    without values are empty lists, rows after the last value are left out.

    Raises TooLarge when a value lies beyond row 200,001 or column 64, or the XML inflates
    to over 200 MB; InvalidInput when the file is not a workbook.
    """
    # zipfile builds an object per entry of the central directory before we can look: 20 MB
    # of empty entries is 230,000 of them, 125 MB and 1 s. Each entry starts with this
    # signature (zipfile checks it), so counting it bounds them; a workbook has tens.
    if data.count(b"PK\x01\x02") > MAX_PARTS:
        raise unreadable()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise unreadable() from None
    with archive:
        reader = _Reader(archive)
        try:
            return reader.read()
        except (
            zipfile.BadZipFile,
            KeyError,  # a part the relationships name is missing
            ValueError,  # a number or cell reference that is not one
            IndexError,  # a shared-string index past the table
            OSError,
            expat.ExpatError,  # broken XML
            RuntimeError,  # an encrypted member (zipfile)
            NotImplementedError,  # a compression method zipfile does not know
            EOFError,  # a truncated stream
        ):
            raise unreadable() from None


class _Reader:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.budget = MAX_XML_BYTES

    # -- parts ----------------------------------------------------------------------------

    def read(self) -> list[list]:
        workbook = self._main_part()
        rels = self._relationships(_rels_path(workbook))
        first_sheet, date1904 = self._first_sheet(workbook)
        if first_sheet not in rels:
            raise KeyError(first_sheet)
        sheet = rels[first_sheet][1]
        by_type = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
        strings = (
            self._shared_strings(by_type["sharedStrings"]) if "sharedStrings" in by_type else []
        )
        date_styles = self._date_styles(by_type["styles"]) if "styles" in by_type else set()
        return self._sheet(sheet, strings, date_styles, date1904)

    def _main_part(self) -> str:
        if "_rels/.rels" not in self.archive.NameToInfo:
            return "xl/workbook.xml"
        for kind, target in self._relationships("_rels/.rels").values():
            if kind == _MAIN_REL:
                return target
        return "xl/workbook.xml"

    def _relationships(self, path: str) -> dict[str, tuple[str, str]]:
        """Id → (type, the target's path in the zip)."""
        base = posixpath.dirname(posixpath.dirname(path))  # xl/_rels/x.rels → xl
        found: dict[str, tuple[str, str]] = {}

        def start(name, attrs):
            if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                if target.startswith("/"):
                    target = target[1:]
                else:
                    target = posixpath.normpath(posixpath.join(base, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), target)

        self._parse(path, start)
        return found

    def _first_sheet(self, workbook: str) -> tuple[str, bool]:
        """The relationship id of the first sheet in the workbook's order, and whether
        dates count from 1904 (old Mac Excel)."""
        sheet: str | None = None
        date1904 = False

        def start(name, attrs):
            nonlocal sheet, date1904
            local = _local(name)
            if local == "sheet" and sheet is None:
                # r:id, whatever the prefix of the relationships namespace is called
                sheet = next((v for k, v in attrs.items() if _local(k) == "id"), None)
            elif local == "workbookPr":
                date1904 = attrs.get("date1904", "") in ("1", "true")

        self._parse(workbook, start)
        if sheet is None:
            raise KeyError("sheet")
        return sheet, date1904

    def _shared_strings(self, path: str) -> list[str]:
        strings: list[str] = []
        parts: list[str] = []
        state = {"text": False, "phonetic": 0}

        def start(name, attrs):
            local = _local(name)
            if local == "si":
                parts.clear()
            elif local == "t":
                state["text"] = not state["phonetic"]
            elif local == "rPh":  # the phonetic reading above Japanese text: not the value
                state["phonetic"] += 1

        def end(name):
            local = _local(name)
            if local == "si":
                strings.append(_unescape("".join(parts)))
            elif local == "t":
                state["text"] = False
            elif local == "rPh":
                state["phonetic"] -= 1

        def text(data):
            if state["text"]:
                parts.append(data)

        self._parse(path, start, end, text)
        return strings

    def _date_styles(self, path: str) -> set[int]:
        """The indexes of the cell styles whose number format shows a date."""
        formats: dict[int, str] = {}
        styles: list[int] = []
        state = {"cell_xfs": False}

        def start(name, attrs):
            local = _local(name)
            if local == "numFmt":
                formats[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
            elif local == "cellXfs":
                state["cell_xfs"] = True
            elif local == "xf" and state["cell_xfs"]:
                styles.append(int(attrs.get("numFmtId", "0")))

        def end(name):
            if _local(name) == "cellXfs":
                state["cell_xfs"] = False

        self._parse(path, start, end)
        return {
            index
            for index, format_id in enumerate(styles)
            if format_id in _DATE_FORMAT_IDS or _is_date_format(formats.get(format_id, ""))
        }

    def _sheet(
        self, path: str, strings: list[str], date_styles: set[int], date1904: bool
    ) -> list[list]:
        # The hot loop (a 100,000-row list is 1.4 million cells): handlers are closures
        # over plain variables and element names are looked up once per spelling.
        rows: list[list] = []
        kinds: dict[str, str] = {}
        parts: list[str] = []
        row_at = column_at = cell_row = cell_column = 0
        filled = 0
        cell_type, cell_style = "n", None
        capture = False
        phonetic = 0

        def start(name, attrs):
            nonlocal row_at, column_at, cell_row, cell_column, cell_type, cell_style
            nonlocal capture, phonetic
            kind = kinds.get(name) or kinds.setdefault(name, _local(name))
            if kind == "c":
                # Positions as Excel and calamine infer them: a <c> or <row> without r
                # follows the one before it.
                ref = attrs.get("r")
                if ref:
                    cell_row, cell_column = _position(ref)
                else:
                    cell_row, cell_column = row_at, column_at + 1
                column_at = cell_column
                cell_type = attrs.get("t", "n")
                cell_style = attrs.get("s")
                parts.clear()
            elif kind == "v":
                # calamine too ignores a <v> beside an inline string's <is>
                capture = cell_type != "inlineStr"
            elif kind == "t":
                capture = cell_type == "inlineStr" and not phonetic
            elif kind == "row":
                ref = attrs.get("r")
                row_at = int(ref) if ref else row_at + 1
                column_at = 0
            elif kind == "rPh":  # the phonetic reading above Japanese text: not the value
                phonetic += 1

        def end(name):
            nonlocal capture, phonetic, filled
            kind = kinds[name]
            if kind == "c":
                value = _value(cell_type, cell_style, parts, strings, date_styles, date1904)
                if value is not None:
                    filled += 1
                    if filled > MAX_CELLS:
                        raise _too_many_cells()
                    _place(rows, cell_row, cell_column, value)
            elif kind == "v" or kind == "t":
                capture = False
            elif kind == "rPh":
                phonetic -= 1

        def text(data):
            if capture:
                parts.append(data)

        self._parse(path, start, end, text)
        return rows

    # -- the stream -----------------------------------------------------------------------

    def _parse(self, path: str, start: Callable, end=None, text=None) -> None:
        """Feed one part to expat chunk by chunk, within the upload's XML budget."""
        info = self.archive.getinfo(path)
        # The declared size refuses a zip bomb before anything is inflated; counting what
        # is actually inflated holds even when the declared size lies.
        if info.file_size > self.budget:
            raise _too_large()
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = start
        if end:
            parser.EndElementHandler = end
        if text:
            parser.CharacterDataHandler = text
        # A workbook part never has a DTD: refusing one rules out entity expansion.
        parser.StartDoctypeDeclHandler = _no_doctype
        parser.EntityDeclHandler = _no_doctype
        with self.archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                self.budget -= len(chunk)
                if self.budget < 0:
                    raise _too_large()
                parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _no_doctype(*args) -> None:
    raise ValueError("DTD in a workbook part")


def _too_many_cells() -> TooLarge:
    return TooLarge(
        _l(
            "The first sheet holds more than %(count)s filled cells; keep only the columns "
            "the list needs, or split it.",
            count=f"{MAX_CELLS:,}".replace(",", "."),
        ),
        field="file",
    )


def _too_large() -> TooLarge:
    return TooLarge(
        _l("The workbook unpacks to more than 200 MB; split it into smaller lists."),
        field="file",
    )


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _local(name: str) -> str:
    # expat without namespace processing: "x:c" and "c" are the same element, as for
    # calamine, which reads local names.
    return name.rpartition(":")[2]


def _position(ref: str) -> tuple[int, int]:
    """'B12' → (12, 2), both counted from 1; ValueError for anything else."""
    letters = ref.rstrip("0123456789")
    column = _COLUMNS.get(letters)
    if column is None:
        column = _column_number(letters)
    return int(ref[len(letters) :]), column


_COLUMNS: dict[str, int] = {}  # at most 18,278 spellings (A … ZZZ)


def _column_number(letters: str) -> int:
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isupper():
        raise ValueError(letters)
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    _COLUMNS[letters] = column
    return column


def column_letters(column: int) -> str:
    """1 → 'A', 64 → 'BL', 16384 → 'XFD'."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _place(rows: list[list], row: int, column: int, value) -> None:
    # Checked before anything is allocated: a far cell is refused, not stored.
    if row < 1 or column < 1:
        raise ValueError("a cell before A1")
    if row > MAX_ROWS:
        raise TooLarge(
            _l(
                "The first sheet has a value in row %(row)s; at most 200,000 rows and a "
                "header fit in one upload. Delete what lies below the list.",
                row=f"{row:,}".replace(",", "."),
            ),
            field="file",
        )
    if column > MAX_COLUMNS:
        raise TooLarge(
            _l(
                "The first sheet has a value in column %(column)s; at most %(count)s columns "
                "are read. Delete what lies to the right of the list.",
                column=column_letters(column),
                count=MAX_COLUMNS,
            ),
            field="file",
        )
    if len(rows) < row:
        rows.extend([] for _ in range(row - len(rows)))
    line = rows[row - 1]
    if len(line) == column - 1:
        line.append(value)  # the usual case: the next cell of the row
        return
    if len(line) < column:
        line.extend([None] * (column - len(line)))
    line[column - 1] = value


def _value(kind, style, parts, strings, date_styles, date1904):
    """The cell's value, None for an empty one (style only, empty or blank text)."""
    raw = parts[0] if len(parts) == 1 else "".join(parts)
    if kind == "s":
        return _text(strings[int(raw)] if raw else "")
    if kind == "inlineStr" or kind == "str" or kind == "e":
        return _text(_unescape(raw))
    if kind == "b":
        return raw.strip() == "1" if raw.strip() else None
    if kind == "d":
        return _iso_moment(raw)
    return _number(raw, style, date_styles, date1904)


def _text(value: str) -> str | None:
    return value if value and not value.isspace() else None


def _iso_moment(raw: str):
    """A cell of type d (ISO 8601): a datetime; its text when it is none."""
    if not raw.strip():
        return None
    try:
        return dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        return _text(raw)


def _number(raw: str, style, date_styles: set[int], date1904: bool):
    """A number cell: a float, or a date or datetime when its style shows a date."""
    if not raw or raw.isspace():
        return None
    number = float(raw)
    if style is not None and int(style) in date_styles:
        return _excel_date(number, date1904)
    return number


def _unescape(text: str) -> str:
    # Excel writes characters XML cannot hold as _xHHHH_ (a line break in a cell: _x000D_).
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _is_date_format(code: str) -> bool:
    code = _NOT_DATE_PARTS.sub("", code).lower()
    return any(letter in code for letter in "dmyhs") and code != "general"


def _excel_date(serial: float, date1904: bool):
    """An Excel date number as a date (a whole day) or datetime to the second; the number
    itself when it is no date Python can hold."""
    if date1904:
        epoch = dt.datetime(1904, 1, 1)
    elif serial < 60:  # Excel's day 60 is 29-02-1900, which never was
        epoch = dt.datetime(1899, 12, 31)
    else:
        epoch = dt.datetime(1899, 12, 30)
    if not 0 <= serial < 2_958_466:  # 31-12-9999
        return serial
    moment = epoch + dt.timedelta(seconds=round(serial * 86_400))
    return moment.date() if serial.is_integer() else moment
