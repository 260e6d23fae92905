"""Issue 14, smaller items: batch rows paged (R-BJ-5), the upload's flash says what happened
(R-BJ-2, R-CP-1, R-IN-3), a part of a plate in any notation finds it (R-PP-2), the
conversion export holds numbers and its chart has axes (R-CP-4)."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest

from admin_app.db import unit_of_work
from admin_app.services import batch_jobs

HEADER = "kenteken;email;achternaam\r\n"


def _list_of(rows: int, *, bad_every: int = 10) -> bytes:
    """A list of ``rows`` distinct valid plates (side-code 1, XX-99-99); every
    ``bad_every``-th row has an e-mail without "@" and is refused."""
    lines = []
    for n in range(rows):
        email = f"klant{n}example.nl" if n % bad_every == bad_every - 1 else f"klant{n}@example.nl"
        lines.append(f"ZX{n:04d};{email};Klant{n}\r\n")
    return (HEADER + "".join(lines)).encode()


@pytest.fixture()
def long_job(world, acting_as):
    """A previewed 5,000-row list of garage-devries: 4,500 new rows, 500 refused."""
    with acting_as("garage-devries") as acting, unit_of_work(world.session):
        job = batch_jobs.upload_list(
            world.session,
            actor=acting.actor,
            filename="lang.csv",
            data=_list_of(5000),
            send_to_customers=False,
        )
    return job.id


def _row_numbers(html: str) -> list[int]:
    table = html.split('class="table table-condensed batch-rows"', 1)[1].split("</table>", 1)[0]
    return [int(n) for n in re.findall(r"<tr[^>]*><td>(\d+)</td>", table)]


def _page_links(html: str) -> list[str]:
    pager = html.split('class="rows-pager"', 1)[1].split("</nav>", 1)[0]
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', pager)]


def test_issue14_every_row_of_a_5000_row_list_is_on_a_page(world, login_as, long_job):
    """R-BJ-5: the rows stopped at 1,000 with no paging; now every row is on some page, in
    sheet order, and the pager walks them all."""
    browser = login_as("garage-devries")
    seen: list[int] = []
    url = f"/batch-jobs/show/{long_job}"
    pages = 0
    while url:
        answer = browser.get(url)
        assert answer.status_code == 200
        html = answer.get_data(as_text=True)
        seen += _row_numbers(html)
        pages += 1
        following = [link for link in _page_links(html) if f"page={pages + 1}" in link]
        url = following[0] if following else None
        assert pages <= 30
    assert seen == list(range(2, 5002))  # row 1 is the header
    assert pages == 25
    last = browser.get(f"/batch-jobs/show/{long_job}?page=25").get_data(as_text=True)
    assert "Rijen 4801–5000 van 5000 (pagina 25 van 25)" in last


def test_issue14_an_outcome_filter_is_kept_while_paging(world, login_as, long_job):
    """R-BJ-5: paging through the refused rows stays among the refused rows."""
    browser = login_as("garage-devries")
    first = browser.get(f"/batch-jobs/show/{long_job}?outcome=refused").get_data(as_text=True)
    assert _row_numbers(first) == list(range(11, 2002, 10))
    links = _page_links(first)
    assert links and all("outcome=refused" in link for link in links)
    third = browser.get(next(link for link in links if "page=3" in link)).get_data(as_text=True)
    assert _row_numbers(third) == list(range(4011, 5002, 10))
    assert "Rijen 401–500 van 500 (pagina 3 van 3)" in third


@pytest.mark.parametrize("page", ["0", "abc", "-3", "99999", "1e9"])
def test_issue14_any_typed_page_number_shows_a_page(world, login_as, long_job, page):
    """R-BJ-5: a page number out of range or not a number shows the first or last page."""
    answer = login_as("garage-devries").get(f"/batch-jobs/show/{long_job}?page={page}")
    assert answer.status_code in (200, 302)
    if answer.status_code == 200:
        assert _row_numbers(answer.get_data(as_text=True))


def test_issue14_a_rows_page_is_read_in_sheet_order_by_the_service(world, long_job):
    """R-BJ-5: the service pages by the (job, row number) index; past the end is the last."""
    from admin_app.models import BatchJob

    job = world.session.get(BatchJob, long_job)
    page = batch_jobs.job_rows_page(world.session, job, outcome="created", page=23)
    assert (page.number, page.pages, page.total) == (23, 23, 4500)
    new_rows = [number for number in range(2, 5002) if (number - 2) % 10 != 9]
    assert [row.row_number for row in page.rows] == new_rows[4400:]
    assert (page.first_row, page.last_row) == (4401, 4500)
    past = batch_jobs.job_rows_page(world.session, job, page=10_000)
    assert past.number == 25 and past.rows[-1].row_number == 5001


def _upload(browser, path, name, data):
    return browser.post(
        path, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def _flashes(html: str) -> list[str]:
    """The text of the page's flash messages (FAB's alert boxes)."""
    html = re.sub(r"<button.*?</button>", "", html, flags=re.S)  # the close button's ×
    boxes = re.findall(r'<div class="alert alert-(\w+)[^"]*"[^>]*>(.*?)</div>', html, re.S)
    return [
        (kind, " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())) for kind, text in boxes
    ]


def test_issue14_a_large_upload_says_it_is_received_while_it_is_read(world, login_as):
    """R-BJ-2: a list read in the background flashed "De lijst is ingelezen" while its page
    read "Lijst wordt gelezen"; the flash now says it is received and being read."""
    browser = login_as("garage-devries")
    answer = _upload(
        browser, "/batch-jobs/upload", "groot.csv", _list_of(batch_jobs.BACKGROUND_PREVIEW_ROWS + 1)
    )
    assert answer.status_code == 302
    html = browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Lijst wordt gelezen" in html
    assert (
        "success",
        "De lijst is ontvangen en wordt gelezen: deze pagina toont de "
        "voortgang. Controleer het voorbeeld en bevestig zodra de lijst gelezen is.",
    ) in (_flashes(html))
    assert "ingelezen" not in html


def test_issue14_a_small_upload_says_it_is_read_and_shows_its_preview(world, login_as):
    """R-BJ-2: a list read at once says so, and its page shows the preview to confirm."""
    browser = login_as("garage-devries")
    answer = _upload(browser, "/batch-jobs/upload", "klein.csv", _list_of(30))
    html = browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert ("success", "De lijst is ingelezen: controleer het voorbeeld en bevestig.") in (
        _flashes(html)
    )
    assert "Lijst wordt gelezen" not in html and "Bevestigen" in html


def test_issue14_the_recall_and_invoice_uploads_flash_what_they_did(world, login_as):
    """R-IN-3, R-CP-1: the other uploads are read at once; their flash gives the counts of
    what the file did."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    admin = login_as("admin")
    recalls = (data / "recalls-voorbeeld.csv").read_bytes()
    answer = _upload(admin, "/inspections/recalls", "recalls.csv", recalls)
    html = admin.get(answer.headers["Location"]).get_data(as_text=True)
    rows = recalls.decode().count("\n") - 1
    [(kind, text)] = _flashes(html)
    assert kind == "success" and text.startswith("Recallgegevens geïmporteerd: ")
    assert sum(int(n) for n in re.findall(r"\d+", text)) == rows

    garage = login_as("garage-jansen")
    invoices = (data / "facturen-voorbeeld.csv").read_bytes()
    html = _upload(garage, "/proposals/invoices", "facturen.csv", invoices).get_data(as_text=True)
    flashes = _flashes(html)
    assert len(flashes) == 1 and "107" in flashes[0][1] and flashes[0][0] in ("success", "warning")


@pytest.mark.parametrize(
    "typed", ["{a}{b}-{c}{d}", "{a}{b} {c}{d}", "{a}{b}.{c}{d}", "{a}-{b}{c}-{d}"]
)
def test_issue14_a_part_of_a_plate_in_any_notation_finds_it(world, login_as, typed):
    """R-PP-2: the home search `43-ZK` found nothing while `v 43 zkj` found V-43-ZKJ: a part
    of a plate (here its middle four characters) in any notation, any case, finds it."""
    from admin_app.domain.plates import display_plate

    jansen = world.garage("Autobedrijf Jansen")
    passport = next(p for p in world.passports(garage_id=jansen.id) if len(p.plate) == 6)
    a, b, c, d = passport.plate[1:5].lower()
    query = typed.format(a=a, b=b, c=c, d=d)
    browser = login_as("garage-jansen")
    home = browser.get("/").get_data(as_text=True)
    assert 'name="_flt_0_plate"' in home  # the home search box sends this filter
    answer = browser.get("/passports/list/", query_string={"_flt_0_plate": query})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert display_plate(passport.plate) in html, query
    other = next(
        p for p in world.passports(garage_id=jansen.id) if passport.plate[1:5] not in p.plate
    )
    assert display_plate(other.plate) not in html


def test_issue14_a_plate_part_pattern_is_contains_from_three_characters():
    """R-PP-2: a part of three or more characters matches anywhere (the trigram index);
    one or two match the start (a trigram index cannot answer them)."""
    from admin_app.domain.plates import normalize_plate, plate_part

    assert plate_part(normalize_plate("43-zk")) == "%43ZK%"
    assert plate_part(normalize_plate("v 4")) == "V4%"


def _sheet(data: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data)).active


def test_issue14_the_conversion_export_holds_numbers_and_euro_amounts():
    """R-CP-4: counts, share and value were text ('5', '€ 10.141,85'); now numbers, the
    value in euros with a euro number format, oldest week first."""
    from decimal import Decimal

    from admin_app.services.proposals import WeekConversion, conversion_xlsx

    rows = [WeekConversion("2026-W48", 8, 2, 1_014_185), WeekConversion("2026-W49", 0, 0, 0)]
    sheet = _sheet(conversion_xlsx(rows))
    header, first, empty = (list(row) for row in sheet.iter_rows(min_row=1, max_row=3))
    assert [c.value for c in header][:2] == ["week", "uitgenodigd"]
    # The invitations' columns; the APK reminders' follow (issue 18).
    assert [c.value for c in first][:5] == ["2026-W48", 8, 2, 0.25, 10141.85]
    assert [c.data_type for c in first][:5] == ["s", "n", "n", "n", "n"]
    assert "€" in first[4].number_format and "0.00" in first[4].number_format
    assert first[3].number_format == "0%"
    assert Decimal(str(first[4].value)) == Decimal("10141.85")
    assert [c.value for c in empty][:3] == ["2026-W49", 0, 0] and empty[3].value in (None, "")


def test_issue14_text_cells_stay_formula_safe_next_to_numbers():
    """R-CP-4, R-SEC: only the number columns hold numbers; text there or elsewhere that
    looks like a formula stays text."""
    from admin_app.services.customer_lists import EURO_FORMAT, xlsx_bytes

    data = xlsx_bytes(
        [["=SUM(A1:A9)", 5, "=1+1", True], ["+31 6", "7", 3.5, None]],
        sheet_title="Proef",
        number_formats={1: "0", 2: EURO_FORMAT, 3: "0"},
    )
    first, second = (list(row) for row in _sheet(data).iter_rows())
    assert (first[0].value, first[0].data_type) == ("=SUM(A1:A9)", "s")
    assert (first[1].value, first[1].data_type) == (5, "n")
    assert (first[2].value, first[2].data_type) == ("=1+1", "s")
    assert first[3].data_type == "s"  # a yes/no is not a count
    assert (second[0].value, second[1].value, second[1].data_type) == ("+31 6", "7", "s")
    assert (second[2].value, second[2].data_type) == (3.5, "n")


def test_issue14_the_conversion_chart_has_axes_and_week_labels_oldest_first(world, login_as):
    """R-CP-4: the chart had bars only; now a y-axis with counts, an x-axis with a label per
    week, oldest week on the left, as the export's rows."""
    browser = login_as("garage-devries")
    html = browser.get("/proposals/conversion").get_data(as_text=True)
    svg = html.split('<svg class="conversion-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'class="axis y-axis"' in svg and 'class="axis x-axis"' in svg
    assert ">Klanten<" in svg and ">Week<" in svg
    ticks = [int(t) for t in re.findall(r'class="y-tick"[^>]*>(\d+)<', svg)]
    assert ticks == sorted(ticks) and ticks[0] == 0 and len(ticks) == 5
    labels = re.findall(r'class="week-label"[^>]*>([^<]+)<', svg)
    xs = [float(x) for x in re.findall(r'class="week-label" x="([\d.]+)"', svg)]
    assert xs == sorted(xs)
    export = _sheet(browser.get("/proposals/conversion.xlsx").data)
    weeks = [row[0].value for row in export.iter_rows(min_row=2)]
    assert weeks == sorted(weeks)
    # The chart is the invitations'; the export also has weeks of APK reminders alone
    # (issue 18), with the invitation columns empty.
    invited = [row for row in export.iter_rows(min_row=2) if row[1].value is not None]
    assert labels == [row[0].value.rsplit("W", 1)[1] for row in invited]
    assert max(ticks) >= max(row[1].value for row in invited)


def test_issue14_the_inspection_vehicle_search_finds_a_part_of_a_plate(world, acting_as):
    """R-PP-2, R-IN-1: "Voertuig zoeken" found a plate only whole; a part in any notation
    finds it too, with and without an invitation; a query of dashes alone finds nothing."""
    from admin_app.services import inspections

    jansen = world.garage("Autobedrijf Jansen")
    passport = next(p for p in world.passports(garage_id=jansen.id) if len(p.plate) == 6)
    part = f"{passport.plate[1:3].lower()} {passport.plate[3:5]}"
    with acting_as("garage-jansen") as acting:
        found = inspections.find_vehicle(world.session, part, with_invitation=False)
        assert passport.id in [p.id for p in found.passports]
        assert all(passport.plate[1:5] in p.plate for p in found.passports)
        assert inspections.find_vehicle(world.session, "--", with_invitation=False).passports == []
        with unit_of_work(world.session):
            inspections.register_invitation(
                world.session, passport_id=passport.id, actor=acting.actor
            )
        invited = inspections.find_vehicle(world.session, part, with_invitation=True)
        assert [p.id for p in invited.passports] == [passport.id]


def test_issue14_a_plate_part_finding_several_vehicles_says_these_vehicles(world, login_as):
    """R-IN-1: a part of a plate can find more than one vehicle; the earlier forms below
    them are of "these vehicles", not of "this vehicle"."""
    jansen = world.garage("Autobedrijf Jansen")
    plates = [p.plate for p in world.passports(garage_id=jansen.id) if len(p.plate) == 6]
    browser = login_as("garage-jansen")
    one = browser.get(f"/inspections/?invited=0&q={plates[0]}").get_data(as_text=True)
    assert "Eerdere formulieren van dit voertuig" in one
    digit = next(c for c in plates[0] if c.isdigit())
    several = browser.get(f"/inspections/?invited=0&q={digit}").get_data(as_text=True)
    assert "Eerdere formulieren van deze voertuigen" in several
