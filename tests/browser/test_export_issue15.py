"""Issue 15's browser test: filter the passport list, export it, the file holds exactly
the filtered rows (CSV and Excel)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.browser.conftest import log_in


def _filter_by_name(page, name: str) -> None:
    page.goto("/passports/list/")
    page.click("a.accordion-toggle")  # "Zoeken"
    page.click("#filter_form .dropdown-toggle")  # "Filter toevoegen"
    page.click("#filter_form a.filter[name=plate]")  # "Kenteken": plate, name or e-mail
    page.fill("#filter_form input[name^=_flt_][name$=_plate]", name)
    # FAB's script builds the filtered URL on submit: wait for that page, not the one shown.
    with page.expect_navigation(url=re.compile(r"_flt_0_plate=")):
        page.click("#filter_form button[type=submit]")


def _shown_plates(page) -> list[str]:
    cells = page.locator("table.table td").all_inner_texts()
    return [c.strip() for c in cells if re.fullmatch(r"\w{1,3}-\w{1,3}-\w{1,3}", c.strip())]


def test_issue15_filtered_passport_list_exports_exactly_its_rows(page, world):
    """Issue 15: a garage filters its passport list by a customer's name and downloads it
    as CSV and as Excel; each file holds exactly the rows on screen."""
    jansen = world.garage("Autobedrijf Jansen")
    owner = next(p.owner for p in world.passports(garage_id=jansen.id, state="sent"))
    log_in(page, "garage-jansen")
    _filter_by_name(page, owner.last_name)
    assert "_flt_0_plate=" in page.url
    shown = _shown_plates(page)
    everyone = len(world.passports(garage_id=jansen.id))
    assert shown and len(shown) < everyone

    with page.expect_download() as csv_download:
        page.click("a.export-csv")
    data = open(csv_download.value.path(), "rb").read()
    lines = [line.split(";") for line in data.decode("utf-8-sig").split("\r\n") if line]
    assert lines[0][0] == "Kenteken"
    assert [line[0] for line in lines[1:]] == shown

    with page.expect_download() as xlsx_download:
        page.click("a.export-xlsx")
    sheet = load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == shown


def test_issue15_exported_list_uploaded_again_is_all_unchanged(page, world, tmp_path):
    """Issue 15 / R-BJ-1: the passport export opens as a customer list — downloaded from
    the filtered list and uploaded again unchanged, every row of the preview is
    "ongewijzigd" and nothing is new or refused."""
    jansen = world.garage("Autobedrijf Jansen")
    live = [p for p in world.passports(garage_id=jansen.id) if p.state != "archived"]
    archived_owners = {
        p.owner_id for p in world.passports(garage_id=jansen.id) if p.state == "archived"
    }
    owner = next(p.owner for p in live if p.owner_id not in archived_owners)
    log_in(page, "garage-jansen")
    _filter_by_name(page, owner.last_name)
    shown = _shown_plates(page)
    assert shown
    with page.expect_download() as csv_download:
        page.click("a.export-csv")
    exported = tmp_path / "paspoorten.csv"
    csv_download.value.save_as(exported)

    page.goto("/batch-jobs/upload")
    page.set_input_files("#file", str(exported))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    counts = page.locator(".batch-counts").inner_text()
    assert f"{len(shown)} ongewijzigd" in counts, counts
    assert "0 nieuw" in counts and "0 geweigerd" in counts, counts
