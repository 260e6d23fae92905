"""Reading uploaded lists safely and strictly (issue 13; R-BJ-1, R-BJ-2): hostile workbooks,
control characters, encodings, duplicate columns, long cells. Services only, no HTTP."""

from __future__ import annotations

import io
import resource
import time
import tracemalloc
import zipfile

import pytest

from admin_app.domain.errors import InvalidInput, TooLarge
from admin_app.services import customer_lists, workbooks
from admin_app.services.customer_lists import parse_list, read_list
from admin_app.services.tables import MAX_BYTES, read_table
from tests.conftest import DB_KIND

HEADER = ("kenteken", "email", "achternaam")
ROW = ("12-ABC-3", "jan@example.nl", "Jansen")
MB = 1024 * 1024
# Reading a file touches no database: once, on SQLite, is enough (the bounded checks
# alone took ~45 s of the PostgreSQL run).
READING_ONLY = pytest.mark.skipif(DB_KIND != "sqlite", reason="reading a file: SQLite only")


@pytest.fixture()
def dutch(app):
    with app.test_request_context():
        yield


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(number: int, values) -> str:
    cells = "".join(_inline(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def workbook(
    sheet_data: str,
    *,
    dimension: str = "A1",
    shared: list[str] | None = None,
    sheet_xml: bytes | None = None,
) -> bytes:
    """A minimal .xlsx built by hand, as a hostile sender would: the sheet is not named
    sheet1.xml, so the reader must follow the workbook's relationships."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet = (
        sheet_xml
        or (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}">'
            f'<dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>'
        ).encode()
    )
    rels = (
        f'<Relationship Id="rId7" Type="{rel}/worksheet" Target="worksheets/klanten.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/worksheet" Target="/xl/worksheets/other.xml"/>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{ns}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Klanten" sheetId="1" r:id="rId7"/>'
            '<sheet name="Anders" sheetId="2" r:id="rId2"/></sheets></workbook>',
        )
        if shared is not None:
            rels += f'<Relationship Id="rId9" Type="{rel}/sharedStrings" Target="strings.xml"/>'
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            z.writestr("xl/strings.xml", f'<sst xmlns="{ns}">{items}</sst>')
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships">{rels}</Relationships>',
        )
        z.writestr("xl/worksheets/klanten.xml", sheet)
        z.writestr(
            "xl/worksheets/other.xml",
            f'<worksheet xmlns="{ns}"><sheetData>{_row(1, ["not", "this"])}</sheetData>'
            "</worksheet>",
        )
    return out.getvalue()


def bounded(call, *, seconds: float = 2.0, megabytes: int = 200, trace_python: bool = True):
    """Run call(); assert it took under `seconds` and under `megabytes` more memory, both
    Python's (tracemalloc) and the process's peak (native allocations, e.g. Rust's).

    tracemalloc slows every allocation down several times: a check that reads millions
    of cells measures the process's peak only, so that its time is the reader's."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    python_peak = 0
    if trace_python:
        tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as error:  # noqa: BLE001 - the outcome is asserted by the caller
            outcome = error
        if trace_python:
            _, python_peak = tracemalloc.get_traced_memory()
    finally:
        if trace_python:
            tracemalloc.stop()
    took = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert took < seconds, f"took {took:.1f} s"
    assert python_peak < megabytes * MB, f"Python peak {python_peak / MB:.0f} MB"
    assert grown < megabytes * 1024, f"process peak grew {grown / 1024:.0f} MB"
    return outcome


# --- item 1: a workbook is bounded before it is read ----------------------------------------


@READING_ONLY
def test_issue13_xlsx_cell_at_XFD1048576_refused_without_allocating(dutch):
    data = workbook(_row(1, HEADER) + _inline("XFD1048576", "x"), dimension="A1:XFD1048576")
    assert len(data) < 2000
    refused = bounded(lambda: read_list("lijst.xlsx", data))
    assert isinstance(refused, TooLarge)
    assert "1.048.576" in str(refused.message)


@READING_ONLY
def test_issue13_xlsx_cell_at_GR200000_refused_within_bounds(dutch):
    data = workbook(_row(1, HEADER) + _row(2, ROW) + _inline("GR200000", "x"))
    refused = bounded(lambda: read_list("lijst.xlsx", data))
    assert isinstance(refused, TooLarge)
    assert "GR" in str(refused.message) and "64" in str(refused.message)


@READING_ONLY
def test_issue13_xlsx_value_below_row_200001_refused_within_bounds(dutch):
    data = workbook(_row(1, HEADER) + _row(2, ROW) + _inline("A200002", "x"))
    refused = bounded(lambda: read_list("lijst.xlsx", data))
    assert isinstance(refused, TooLarge) and "200.002" in str(refused.message)


@READING_ONLY
def test_issue13_xlsx_empty_cells_far_away_give_no_customers_like_an_empty_list(dutch):
    header_only = workbook(_row(1, HEADER))
    with pytest.raises(InvalidInput) as empty:
        read_list("lijst.xlsx", header_only)
    far = (
        _row(1, HEADER)
        + '<row r="2000"><c r="GJQ2000" s="3"/><c r="GJR2000" t="inlineStr"><is><t> </t>'
        + '</is></c><c r="GJS2000" t="s"><v>0</v></c></row><row r="1048576" s="2"/>'
        + '<c r="XFD1048576" s="1"/>'
    )
    outcome = bounded(lambda: read_list("lijst.xlsx", workbook(far, shared=[""])))
    assert isinstance(outcome, InvalidInput) and not isinstance(outcome, TooLarge)
    assert str(outcome.message) == str(empty.value.message)  # "… but no customers"


@READING_ONLY
def test_issue13_xlsx_only_value_at_GJQ2000_is_refused_not_an_empty_preview(dutch):
    outcome = bounded(lambda: read_list("lijst.xlsx", workbook(_inline("GJQ2000", "x"))))
    assert isinstance(outcome, TooLarge) and "GJQ" in str(outcome.message)


@READING_ONLY
def test_issue13_xlsx_first_sheet_found_through_the_relationships():
    data = workbook(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c></row><row><c t="s"><v>3</v></c><c><v>5000</v></c>'
        '<c r="D2" t="inlineStr"><is><r><t>Jan</t></r><r><t>sen_x000D_</t></r></is></c></row>',
        shared=["kenteken", "email", "achternaam", "12-ABC-3"],
    )
    assert read_table("lijst.xlsx", data) == [
        ["kenteken", "email", "achternaam"],
        ["12-ABC-3", 5000.0, None, "Jansen\r"],
    ]


@READING_ONLY
def test_issue13_xlsx_zip_bomb_refused_while_streaming(dutch):
    """Sheet XML that inflates to over 200 MB: refused by its declared size at once, and
    by counting while inflating when the declared size lies."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    filler = b"<row/>" * (MB // 6)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        base = workbook("")
        with zipfile.ZipFile(io.BytesIO(base)) as template:
            for info in template.infolist():
                if not info.filename.endswith("klanten.xml"):
                    z.writestr(info, template.read(info))
        with z.open("xl/worksheets/klanten.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{ns}"><sheetData>'.encode())
            for _ in range(201):
                sheet.write(filler)
            sheet.write(b"</sheetData></worksheet>")
    bomb = out.getvalue()
    assert len(bomb) < 2 * MB
    refused = bounded(lambda: read_list("lijst.xlsx", bomb))
    assert isinstance(refused, TooLarge) and "200 MB" in str(refused.message)

    # The same bomb claiming to be small: inflating stops at the budget, not at the end.
    lying = _lie_about_size(bomb, "xl/worksheets/klanten.xml", 1000)
    outcome = bounded(lambda: read_list("lijst.xlsx", lying))
    # zipfile stops at the claimed size and then finds the checksum wrong: unreadable
    assert isinstance(outcome, InvalidInput) and "Excel" in str(outcome.message)


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name` claiming `size` bytes inflated, in its local header's zip64
    field and in the central directory."""
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    lying = bytearray(data)
    at = member.header_offset + 30 + len(member.filename)  # the local header's extra block
    assert lying[at : at + 2] == b"\x01\x00"  # zip64
    lying[at + 4 : at + 12] = size.to_bytes(8, "little")
    entry = data.index(b"PK\x01\x02")
    while not data[entry + 46 : entry + 46 + len(name)] == name.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    lying[entry + 24 : entry + 28] = size.to_bytes(4, "little")
    assert zipfile.ZipFile(io.BytesIO(bytes(lying))).getinfo(name).file_size == size
    return bytes(lying)


@READING_ONLY
def test_issue13_xlsx_budget_counts_what_is_inflated(monkeypatch, dutch):
    data = workbook(_row(1, HEADER) + _row(2, ROW))
    monkeypatch.setattr(workbooks, "MAX_XML_BYTES", 600)  # the parts together are larger
    with pytest.raises(TooLarge):
        read_list("lijst.xlsx", data)


@READING_ONLY
def test_issue13_xlsx_sample_reads_as_before():
    rows = read_table("klantenlijst-voorbeeld.xlsx", _sample("klantenlijst-voorbeeld.xlsx"))
    assert len(rows) == 41 and rows[0][:3] == ["kenteken", "email", "voornaam"]
    assert len(parse_list("x.xlsx", _sample("klantenlijst-voorbeeld.xlsx"))) == 40


def _sample(name: str) -> bytes:
    from pathlib import Path

    return (Path(__file__).resolve().parents[1] / "data" / name).read_bytes()


# --- item 2: a NUL never reaches the database -------------------------------------------------


def _with_nul_in_last_row(data: bytes) -> bytes:
    body, last = data.rstrip(b"\r\n").rsplit(b"\r\n", 1)
    return body + b"\r\n" + last[:-1] + b"\x00" + last[-1:] + b"\r\n"


def test_issue13_nul_in_csv_cell_past_4kb_refused_and_nothing_stored(acting_as, world):
    from sqlalchemy import func, select

    from admin_app.db import unit_of_work
    from admin_app.models import BatchJob
    from admin_app.services import batch_jobs

    data = _with_nul_in_last_row(_sample("klantenlijst-voorbeeld.csv"))
    assert data.index(b"\x00") > 4096
    s = world.session
    jobs = s.scalar(select(func.count()).select_from(BatchJob))
    with acting_as("garage-devries") as acting:
        with pytest.raises(InvalidInput) as refused:
            with unit_of_work(s):
                batch_jobs.upload_list(
                    s,
                    actor=acting.actor,
                    filename="lijst.csv",
                    data=data,
                    send_to_customers=False,
                )
        assert "Rij 41 bevat een NUL-teken" in str(refused.value.message)
    assert s.scalar(select(func.count()).select_from(BatchJob)) == jobs


def test_issue13_nul_in_invoice_and_recall_files_refused(acting_as, world):
    from admin_app.db import unit_of_work
    from admin_app.services import inspections, proposals

    s = world.session
    invoices = _with_nul_in_last_row(_sample("facturen-voorbeeld.csv"))
    assert invoices.index(b"\x00") > 4096
    with acting_as("garage-devries") as acting:
        with pytest.raises(InvalidInput, match="NUL"):
            with unit_of_work(s):
                proposals.import_invoices(s, filename="f.csv", data=invoices, actor=acting.actor)
    header, body = _sample("recalls-voorbeeld.csv").split(b"\r\n", 1)
    recalls = _with_nul_in_last_row(header + b"\r\n" + body * 8)  # the same rows, past 4 KB
    assert recalls.index(b"\x00") > 4096
    with acting_as("admin") as acting:
        with pytest.raises(InvalidInput, match="NUL"):
            with unit_of_work(s):
                inspections.import_recalls(s, filename="r.csv", data=recalls, actor=acting.actor)


@READING_ONLY
def test_issue13_nul_in_xlsx_cell_refused(dutch):
    data = workbook(_row(1, HEADER) + _row(2, ROW) + _row(3, ("12-ABC-4", "a@b.nl", "A_x0000_")))
    with pytest.raises(InvalidInput) as refused:
        read_list("lijst.xlsx", data)
    assert "Rij 3" in str(refused.value.message)


# --- item 3: UTF-8 or Windows-1252, nothing garbled ------------------------------------------

CSV_TEXT = "kenteken;email;achternaam;voornaam\r\n12-ABC-3;a@example.nl;{last};{first}\r\n"
WRONG_ENCODING = "Sla de lijst op als CSV UTF-8 of Windows (ANSI)"


@READING_ONLY
@pytest.mark.parametrize(
    "data",
    [
        # Excel's "CSV UTF-8" BOM, then Windows-1252 bytes: garbled to Nú�ez before
        b"\xef\xbb\xbf" + CSV_TEXT.format(last="Núñez", first="José").encode("cp1252"),
        # Shift-JIS with a full-width space (0x81, undefined in Windows-1252)
        CSV_TEXT.format(last="山田", first="太郎　様").encode("shift_jis"),
        # Shift-JIS katakana: no undefined byte, but read as Windows-1252 its letters are ƒ
        CSV_TEXT.format(last="ヤマダ", first="タロウ").encode("shift_jis"),
        # Shift-JIS kanji only: no undefined byte, read as Windows-1252 mostly symbols
        # (‘¾˜Y ŽR“c) and letters inside Latin Extended-A
        CSV_TEXT.format(last="山田", first="太郎").encode("shift_jis"),
        # UTF-16 whose BOM promises more than the bytes hold
        b"\xff\xfe" + "kenteken".encode("utf-16-le") + b"\x00",
    ],
    ids=[
        "bom-then-cp1252",
        "shift-jis-fullwidth",
        "shift-jis-katakana",
        "shift-jis-kanji",
        "utf16-broken",
    ],
)
def test_issue13_encodings_bom_cp1252_and_shift_jis_refused_not_garbled(dutch, data):
    with pytest.raises(InvalidInput) as refused:
        read_table("lijst.csv", data)
    assert WRONG_ENCODING in str(refused.value.message)


@READING_ONLY
@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_issue13_encodings_dutch_windows_and_utf8_lists_still_read(encoding):
    text = CSV_TEXT.format(last="Núñez – ’s-Hertogenbosch €", first="Zoë Šimon Žofie")
    rows = read_table("lijst.csv", text.encode(encoding))
    assert rows[1][2:] == ["Núñez – ’s-Hertogenbosch €", "Zoë Šimon Žofie"]


# --- item 4: one column per field --------------------------------------------------------------


@READING_ONLY
@pytest.mark.parametrize(
    "header, named",
    [
        ("kenteken;email;achternaam;Plate", "'kenteken', 'Plate'"),
        ("kenteken;email;achternaam;E-mail", "'email', 'E-mail'"),
        ("kenteken;email;achternaam;email", "'email', 'email'"),
        ("kenteken;email;achternaam;Last name;plaats;city", "'achternaam', 'Last name'; "),
    ],
)
def test_issue13_duplicate_columns_refused_naming_them(dutch, header, named):
    data = f"{header}\r\n12-ABC-3;a@example.nl;Jansen;b@example.nl;Utrecht;Zeist\r\n"
    with pytest.raises(InvalidInput) as refused:
        read_list("lijst.csv", data.encode())
    message = str(refused.value.message)
    assert message.startswith("De kolommen ") and named in message, message


def test_issue13_duplicate_columns_refused_in_invoice_and_recall_files(acting_as, world):
    from admin_app.db import unit_of_work
    from admin_app.services import inspections, proposals

    s = world.session
    invoices = b"factuurdatum;kenteken;plate;bedrag;soort\r\n1-1-2025;7ZTK17;8ZTK17;1;apk\r\n"
    with acting_as("garage-devries") as acting:
        with pytest.raises(InvalidInput, match="'kenteken', 'plate'"):
            with unit_of_work(s):
                proposals.import_invoices(s, filename="f.csv", data=invoices, actor=acting.actor)
    recalls = (
        b"kenteken,referentiecode_rdw,code_status,omschrijving_defect,Code status\r\n"
        b"7ZTK17,RDW2024000,P,Stuurkogel,O\r\n"
    )
    with acting_as("admin") as acting:
        with pytest.raises(InvalidInput, match="'code_status', 'Code status'"):
            with unit_of_work(s):
                inspections.import_recalls(s, filename="r.csv", data=recalls, actor=acting.actor)


# --- item 5: a long cell refuses its row, not the file ---------------------------------------


@READING_ONLY
def test_issue13_long_cell_200kb_refused_per_row_rest_read(dutch):
    long = "x" * 200_000
    data = (
        "kenteken;email;achternaam;plaats\r\n"
        "12-ABC-3;a@example.nl;Jansen;Utrecht\r\n"
        f'13-ABC-3;b@example.nl;Jansen;"{long}"\r\n'
        f"14-ABC-3;{long}@example.nl;Jansen;Zeist\r\n"
        f"{long};c@example.nl;{long};Zeist\r\n"
        "15-ABC-3;d@example.nl;Pietersen;Breda\r\n"
    ).encode()
    rows = bounded(lambda: parse_list("lijst.csv", data))
    assert [r.row_number for r in rows] == [2, 3, 4, 5, 6]
    assert [r.reason is None for r in rows] == [True, False, False, False, True]
    assert "'plaats' is langer dan 100 tekens" in rows[1].reason
    assert "'email' is langer dan 320 tekens" in rows[2].reason
    assert "'kenteken' is langer dan 16 tekens" in rows[3].reason
    assert "'achternaam' is langer dan" in rows[3].reason
    for row in rows[1:4]:
        assert len(row.reason) <= customer_lists.MAX_REASON
        assert len(row.plate) <= 16 and len(row.email) <= 320
        assert all(len(str(v)) <= 320 for v in row.values.values())


def test_issue13_long_cell_rows_are_stored_refused_and_the_rest_previewed(acting_as, world):
    """On PostgreSQL too: a refused row keeps plate and e-mail within batch_row's columns."""
    from sqlalchemy import select

    from admin_app.db import unit_of_work
    from admin_app.models import BatchRow
    from admin_app.services import batch_jobs

    data = (
        "kenteken;email;achternaam;plaats\r\n"
        "12-ABC-3;a@example.nl;Jansen;Utrecht\r\n"
        f"13-ABC-3;{'b' * 200_000}@example.nl;Jansen;Zeist\r\n"
        "ABCDEFGHIJKLMNOPQRSTU;c@example.nl;Jansen;Zeist\r\n"
        "15-ABC-3;d@example.nl;Pietersen;Breda\r\n"
    ).encode()
    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            job = batch_jobs.upload_list(
                s, actor=acting.actor, filename="lijst.csv", data=data, send_to_customers=False
            )
        assert job.counts["create"] == 2 and job.counts["refused"] == 2
        refused = s.scalars(
            select(BatchRow)
            .where(BatchRow.batch_job_id == job.id, BatchRow.plan == "refused")
            .order_by(BatchRow.row_number)
        ).all()
        assert [r.row_number for r in refused] == [3, 4]
        assert "320" in refused[0].reason_text() and "16" in refused[1].reason_text()


def test_issue13_long_cell_in_invoice_and_recall_files_refuses_the_row(acting_as, world):
    from admin_app.db import unit_of_work
    from admin_app.services import inspections, proposals

    s = world.session
    invoices = (
        "factuurdatum;kenteken;klantnummer;bedrag;soort\r\n"
        f"13-01-2025;7ZTK17;{'1' * 200_000};199,78;reparatie\r\n"
        "13-01-2025;7ZTK17;100001;199,78;reparatie\r\n"
    ).encode()
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            result = proposals.import_invoices(
                s, filename="f.csv", data=invoices, actor=acting.actor
            )
    assert result.created == 1
    assert result.refused == [(2, "'klantnummer' is langer dan 40 tekens.")]
    recalls = (
        "kenteken,referentiecode_rdw,code_status,omschrijving_defect\r\n"
        f"{'A' * 200_000},RDW2024000,P,Stuurkogel\r\n"
        f"7ZTK17,RDW{'9' * 50},O,Stuurkogel\r\n"
        "7ZTK17,RDW2024000,O,Stuurkogel\r\n"
    ).encode()
    with acting_as("admin") as acting:
        with unit_of_work(s):
            counts = inspections.import_recalls(
                s, filename="r.csv", data=recalls, actor=acting.actor
            )
    assert counts["refused"] == 2 and counts["created"] + counts["unchanged"] == 1


@READING_ONLY
def test_issue13_xlsx_with_a_dtd_or_countless_parts_is_refused(dutch):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    with pytest.raises(InvalidInput, match="Excel"):
        read_list("lijst.xlsx", workbook("", sheet_xml=laughs))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        with zipfile.ZipFile(io.BytesIO(workbook(_row(1, HEADER) + _row(2, ROW)))) as template:
            for info in template.infolist():
                z.writestr(info, template.read(info))
        for number in range(20_000):
            z.writestr(zipfile.ZipInfo(str(number)), b"")
    outcome = bounded(lambda: read_list("lijst.xlsx", out.getvalue()), megabytes=50)
    assert isinstance(outcome, InvalidInput) and "Excel" in str(outcome.message)


@READING_ONLY
def test_issue13_csv_of_bare_line_ends_refused_within_bounds(dutch):
    """19 MB of line ends were 19 million rows held as lists: 1.7 GB, 12 s (review)."""
    data = b"kenteken;email;achternaam\r" + b"\r" * (MAX_BYTES - 100)
    outcome = bounded(lambda: read_table("facturen.csv", data), seconds=20, megabytes=200)
    assert isinstance(outcome, InvalidInput) and "lege regels" in str(outcome.message)


@READING_ONLY
def test_issue13_xlsx_of_millions_of_filled_cells_refused_within_bounds(dutch):
    """Within the row and column bounds a sheet could still hold 12.8 million cells."""
    rows = "".join(
        f'<row r="{r}">' + "".join(f"<c><v>{c}</v></c>" for c in range(60)) + "</row>"
        for r in range(1, 60_000)
    )
    data = workbook(rows)
    outcome = bounded(
        lambda: read_table("facturen.xlsx", data), seconds=30, megabytes=400, trace_python=False
    )
    assert isinstance(outcome, TooLarge) and "gevulde cellen" in str(outcome.message)


@READING_ONLY
def test_issue15_rows_the_passport_export_marks_archived_are_skipped():
    """Issue 15 / R-BJ-1: a list with the passport export's Status column skips the rows
    of archived passports (in either language) instead of making them anew; other
    statuses, and lists without the column, read as before."""
    data = (
        b"Kenteken;E-mail;Achternaam;Status\r\n"
        b"12-ABC-3;a@example.nl;Aa;Gearchiveerd\r\n"
        b"13-ABC-3;b@example.nl;Bb;Verzonden\r\n"
        b"14-ABC-3;c@example.nl;Cc;archived\r\n"
        b"15-ABC-3;d@example.nl;Dd;\r\n"
    )
    rows = parse_list("export.csv", data)
    assert [(r.row_number, r.plate) for r in rows] == [(3, "13ABC3"), (5, "15ABC3")]
    assert not any(r.refused for r in rows)
