"""Issue 15, lists to Excel: services/exports.py without HTTP — formulas neutralized, typed
cells, the caller's scope, the reader taking its own export back."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from admin_app.domain.errors import TooLarge
from admin_app.models import Passport
from admin_app.services import exports
from admin_app.services.customer_lists import check_row, without_formula_guard
from admin_app.services.exports import (
    DATE,
    DATETIME,
    MONEY,
    NUMBER,
    TEXT,
    ExportColumn,
    ExportList,
)
from admin_app.services.passport_export import PASSPORT_EXPORT

DANGEROUS = ["=SUM(A1:A9)", "+31 6 12345678", "-2+3", "@cmd", "\tx", "\rx"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_issue15_csv_text_that_could_be_a_formula_gets_an_apostrophe(text):
    """Issue 15 (R-BJ-1 lists): a CSV cell starting with = + - @, a tab or CR cannot become
    a formula in Excel, and the customer-list reader strips the apostrophe again."""
    assert exports.csv_value(TEXT, text) == "'" + text
    assert without_formula_guard("'" + text) == text


@pytest.mark.parametrize("text", ["Jansen", "'s-Hertogenbosch", "06-12345678", ""])
def test_issue15_other_text_is_left_as_it_is(text):
    """Issue 15: only formula starts are guarded; a customer's own apostrophe stays."""
    assert exports.csv_value(TEXT, text) == text
    assert without_formula_guard(text) == text


def test_issue15_reader_strips_the_guard_from_an_uploaded_row():
    """Issue 15 / R-BJ-1: a phone exported as '+31… is read back as +31…."""
    row = check_row(
        2,
        {
            "plate": "12-ABC-3",
            "email": "jan@example.nl",
            "last_name": "Jansen",
            "phone": "'+31 6 12345678",
            "city": "'s-Hertogenbosch",
        },
    )
    assert not row.refused
    assert row.values["phone"] == "+31 6 12345678"
    assert row.values["city"] == "'s-Hertogenbosch"


def test_issue15_csv_values_read_as_dutch_excel_reads_them():
    """Issue 15: dates dd-mm-yyyy, times in Amsterdam, decimal comma."""
    moment = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    assert exports.csv_value(DATE, dt.date(2026, 3, 9)) == "09-03-2026"
    assert exports.csv_value(DATETIME, moment) == "02-07-2026 00:30"
    assert exports.csv_value(MONEY, Decimal("10141.85")) == "10141,85"
    assert exports.csv_value(NUMBER, 12345) == "12345"
    assert exports.csv_value(TEXT, None) == ""


SAMPLE = ExportList(
    name="sample",
    title="Sample",
    columns=(
        ExportColumn("Text", TEXT, lambda row: row[0]),
        ExportColumn("Date", DATE, lambda row: row[1]),
        ExportColumn("Moment", DATETIME, lambda row: row[2]),
        ExportColumn("Count", NUMBER, lambda row: row[3]),
        ExportColumn("Amount", MONEY, lambda row: row[4]),
        ExportColumn("State", TEXT, lambda row: row[5], words={"sent": "Verzonden"}),
    ),
)
SAMPLE_ROW = (
    "=1+1",
    dt.date(2027, 12, 31),
    dt.datetime(2026, 12, 6, 9, 15, tzinfo=dt.UTC),
    42,
    Decimal("99.95"),
    "sent",
)


def test_issue15_xlsx_dates_and_numbers_are_typed_and_text_stays_text():
    """Issue 15: XLSX dates and numbers are typed cells with a number format; text is a
    string cell that never becomes a formula."""
    out = io.BytesIO()
    written = exports.write_xlsx(
        SAMPLE, [SAMPLE.header(), [r(SAMPLE_ROW) for r in SAMPLE.readers()]], out
    )
    assert written == 1
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    header, row = list(sheet.iter_rows(values_only=False))
    assert [c.value for c in header] == ["Text", "Date", "Moment", "Count", "Amount", "State"]
    text, date, moment, count, amount, state = row
    assert text.data_type == "s" and text.value == "=1+1"
    assert date.is_date and date.value.date() == dt.date(2027, 12, 31)
    assert date.number_format == exports.XLSX_DATE_FORMAT
    # 09:15 UTC is 10:15 in Amsterdam in December.
    assert moment.is_date and moment.value == dt.datetime(2026, 12, 6, 10, 15)
    assert count.data_type == "n" and count.value == 42
    assert amount.data_type == "n" and float(amount.value) == 99.95
    assert "€" in amount.number_format
    assert state.value == "Verzonden"


def test_issue15_csv_is_utf8_bom_semicolon_crlf():
    """Issue 15: Dutch Excel opens the CSV as it is (BOM, ;, CRLF)."""

    class Rows(list):
        def yield_per(self, size):
            return self

    data = b"".join(exports.csv_chunks(SAMPLE, Rows([SAMPLE_ROW])))
    assert data.startswith(b"\xef\xbb\xbfText;Date;Moment;Count;Amount;State\r\n")
    assert data.decode("utf-8-sig").split("\r\n")[1] == (
        "'=1+1;31-12-2027;06-12-2026 10:15;42;99,95;Verzonden"
    )


def test_issue15_xlsx_refuses_more_rows_than_a_sheet_holds():
    """Issue 15: above 1,048,575 rows Excel cannot hold the list: said, with CSV offered."""
    exports.check_xlsx_fits(exports.XLSX_MAX_ROWS)
    with pytest.raises(TooLarge) as refused:
        exports.check_xlsx_fits(exports.XLSX_MAX_ROWS + 1)
    assert "CSV" in str(refused.value.message)


def _csv_lines(query) -> list[list[str]]:
    data = b"".join(exports.csv_chunks(PASSPORT_EXPORT, query, batch=7))
    return [line.split(";") for line in data.decode("utf-8-sig").split("\r\n") if line]


def test_issue15_passport_export_holds_only_the_callers_scope(world, acting_as):
    """Issue 15 / R-SEC-1: the export's rows are those of the caller's scope, in the
    query's order, read in batches."""
    jansen = world.garage("Autobedrijf Jansen")
    expected = [p.plate_display for p in world.passports(garage_id=jansen.id)]
    with acting_as("garage-jansen") as acting:
        query = acting.world.session.query(Passport).order_by(Passport.id)
        lines = _csv_lines(query)
        assert exports.count_rows(query) == len(expected)
    assert lines[0][:3] == ["Kenteken", "E-mail", "Achternaam"]
    assert [line[0] for line in lines[1:]] == expected
    garage = lines[0].index("Garage")  # issue 18's fuel and first registration follow it
    assert {line[garage] for line in lines[1:]} == {jansen.name}


def test_issue15_passport_export_of_an_owner_holds_his_cars_only(world, acting_as):
    """Issue 15 / R-SEC-1: an Owner's export holds the cars he claimed, nobody else's."""
    with acting_as("eigenaar") as acting:
        query = acting.world.session.query(Passport).order_by(Passport.id)
        lines = _csv_lines(query)
        mine = {p.plate_display for p in query}
    assert mine and {line[0] for line in lines[1:]} == mine
    assert {line[1] for line in lines[1:]} == {"eigenaar@example.nl"}


def test_issue15_passport_export_applies_the_query_filters(world, acting_as):
    """Issue 15: the export is the query it is given: a filter narrows the file."""
    with acting_as("garage-jansen") as acting:
        query = (
            acting.world.session.query(Passport)
            .filter(Passport.state == "sent")
            .order_by(Passport.id)
        )
        lines = _csv_lines(query)
    assert len(lines) > 1
    assert {line[14] for line in lines[1:]} == {"Verzonden"}


def test_issue15_xlsx_text_that_looks_like_a_formula_is_a_string_cell():
    """Issue 15: in XLSX every text is a string cell as typed, never a formula, without
    the CSV's apostrophe."""
    export = ExportList("texts", "Texts", (ExportColumn("Text", TEXT, lambda row: row),))
    out = io.BytesIO()
    exports.write_xlsx(export, [["Text"], *([text] for text in DANGEROUS)], out)
    cells = [row[0] for row in load_workbook(io.BytesIO(out.getvalue())).active.iter_rows()]
    assert [cell.data_type for cell in cells[1:]] == ["s"] * len(DANGEROUS)
    # (XML reads a bare CR as a line feed: the text's first character, not a formula.)
    assert [cell.value for cell in cells[1:]] == [t.replace("\r", "\n") for t in DANGEROUS]
