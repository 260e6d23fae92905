"""Issue 15, lists to Excel, on the passport list: the "CSV" / "Excel" links export what
the screen shows (its filters, search and order, within the user's scope), audited; and
an exported list uploaded again unchanged is all "ongewijzigd" (R-BJ-1)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from admin_app.models import AuditLog, BatchJob
from admin_app.services import exports
from tests.downloads import csv_rows, xlsx_rows


def _screen_plates(browser, query: str) -> list[str]:
    page = browser.get(f"/passports/list/?{query}&psize_PassportView=100").get_data(as_text=True)
    return re.findall(r"<td>\s*(\w{1,3}-\w{1,3}-\w{1,3})\s*</td>", page)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "_flt_0_state=sent",
        "_oc_PassportView=brand&_od_PassportView=asc",
    ],
)
def test_issue15_passport_csv_is_the_screen_without_paging(world, login_as, query):
    """Issue 15: the CSV holds exactly the rows the list shows, in its order, across all
    pages, for the screen's filter and order."""
    browser = login_as("garage-jansen")
    shown = _screen_plates(browser, query)
    lines = csv_rows(browser.get(f"/passports/export/csv?{query}"))
    assert lines[0][0] == "Kenteken"
    assert shown and [line[0] for line in lines[1:]] == shown


def test_issue15_passport_search_is_applied_and_audited(world, login_as):
    """Issue 15 / R-SEC-2: the search box's text narrows the file; the export is audited
    with who, the list, the filter in words and the rows."""
    owner = world.passports(state="sent")[0].owner
    browser = login_as(
        "garage-jansen" if owner.garage.name.startswith("Autobedrijf Jansen") else "garage-devries"
    )
    lines = csv_rows(browser.get(f"/passports/export/csv?_flt_0_plate={owner.last_name}"))
    assert len(lines) > 1
    assert all(line[2] == owner.last_name for line in lines[1:])
    world.session.expire_all()
    entry = world.session.scalars(
        select(AuditLog).where(AuditLog.table_name == "export").order_by(AuditLog.id.desc())
    ).first()
    assert entry is not None and entry.actor_name.startswith("garage-")
    assert entry.changes["list"] == [None, "passports"]
    assert entry.changes["rows"] == [None, len(lines) - 1]
    assert owner.last_name in entry.changes["filter"][1]
    assert entry.changes["format"] == [None, "csv"]


def test_issue15_passport_xlsx_is_the_screen_with_typed_dates(world, login_as):
    """Issue 15: the Excel file holds the filtered rows; the APK date is a date cell."""
    browser = login_as("garage-jansen")
    shown = _screen_plates(browser, "_flt_0_state=sent")
    rows = xlsx_rows(browser.get("/passports/export/xlsx?_flt_0_state=sent"))
    assert [row[0] for row in rows[1:]] == shown
    assert {row[14] for row in rows[1:]} == {"Verzonden"}
    apk = [row[11] for row in rows[1:] if row[11] is not None]
    assert apk and all(hasattr(value, "year") for value in apk)


def test_issue15_support_exports_every_garage_fleet_manager_his_fleet(world, login_as):
    """Issue 15 / R-SEC-1: the export is within the user's scope."""
    all_live = len(world.passports())
    lines = csv_rows(login_as("support").get("/passports/export/csv"))
    assert len(lines) - 1 == all_live
    jansen = world.garage("Autobedrijf Jansen")
    lines = csv_rows(login_as("garage-jansen").get("/passports/export/csv"))
    assert len(lines) - 1 == len(world.passports(garage_id=jansen.id))


def test_issue15_list_screen_links_carry_the_filter(world, login_as):
    """Issue 15: the list's "CSV" and "Excel" links carry its current arguments."""
    page = (
        login_as("garage-jansen").get("/passports/list/?_flt_0_state=sent").get_data(as_text=True)
    )
    assert 'href="/passports/export/csv?_flt_0_state=sent"' in page
    assert 'href="/passports/export/xlsx?_flt_0_state=sent"' in page


def test_issue15_unknown_format_is_404(world, login_as):
    """Issue 15: only csv and xlsx exist."""
    assert login_as("garage-jansen").get("/passports/export/pdf").status_code == 404


def test_issue15_xlsx_beyond_a_sheet_says_so_and_offers_csv(world, login_as, monkeypatch):
    """Issue 15: more rows than an Excel sheet holds: a clear page with the CSV link, no
    file, nothing audited."""
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    response = login_as("garage-jansen").get("/passports/export/xlsx?_flt_0_state=sent")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Excel" in page and 'href="/passports/export/csv?_flt_0_state=sent"' in page
    world.session.expire_all()
    assert (
        world.session.scalars(select(AuditLog).where(AuditLog.table_name == "export")).first()
        is None
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_issue15_exported_passports_uploaded_again_are_all_unchanged(world, login_as, fmt):
    """Issue 15 / R-BJ-1: the passport export is a customer list; uploaded again unchanged
    (through the batch job's upload and preview) every row is "ongewijzigd" — the whole
    list as the screen shows it first, archived passports included: their rows (Status
    "Gearchiveerd") are skipped, not made anew."""
    # Text a spreadsheet would read as a formula: guarded in the CSV, read back as typed.
    jansen = world.garage("Autobedrijf Jansen")
    customer = next(p.owner for p in world.passports(garage_id=jansen.id, state="sent"))
    customer.phone, customer.street = "+31 6 12345678", "=Dorpsstraat"
    world.session.commit()
    browser = login_as("garage-jansen")
    exported = browser.get(f"/passports/export/{fmt}")
    assert exported.status_code == 200
    data = exported.get_data()
    live = [
        p
        for p in world.passports(garage_id=world.garage("Autobedrijf Jansen").id)
        if p.state != "archived"
    ]
    response = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO(data), f"export.{fmt}")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    world.session.expire_all()
    job = world.session.scalars(select(BatchJob).order_by(BatchJob.id.desc())).first()
    assert job.counts.get("unchanged") == len(live) == job.total_rows, job.counts
    assert not job.counts.get("create") and not job.counts.get("update")
    assert not job.counts.get("refused")
    assert "ongewijzigd" in page
    assert len(live) < len(world.passports(garage_id=job.garage_id))  # archived ones skipped


def test_issue15_the_audit_log_says_who_exported_which_list(app, world, login_as):
    """Issue 15 / R-SEC-2: the export's entry reads as words in the log, not as codes."""
    from admin_app.services.audit import describe_entries

    login_as("garage-jansen").get("/passports/export/xlsx?_flt_0_state=sent")
    world.session.expire_all()
    entry = world.session.scalars(select(AuditLog).where(AuditLog.table_name == "export")).one()
    with app.app_context():
        (described,) = describe_entries(world.session, [entry], "nl")
    assert described.what == "Lijst gedownload"
    text = described.changes_text
    assert "Lijst: AutoPaspoorten" in text and "Bestandsvorm: Excel" in text
    assert "Status (Gelijk aan): 'Verzonden'" in text and "Rijen: " in text


def test_issue15_bulk_bar_exports_the_ticked_rows_only(world, login_as):
    """Issue 15 (bulk actions: "or export them"): the bulk bar's export holds the ticked
    rows, within scope (another garage's id ticked by hand is not in the file), audited
    as ticked rows; "all that match" exports the filtered list."""
    browser = login_as("garage-jansen")
    page = browser.get("/passports/list/").get_data(as_text=True)
    assert "Exporteren als CSV" in page and "Exporteren als Excel" in page
    mine = [p for p in world.passports(state="sent") if p.garage.name == "Autobedrijf Jansen"]
    other = next(p for p in world.passports() if p.garage.name == "Garage De Vries")
    ticked = mine[:2]
    query = "&".join(f"id={p.id}" for p in [*ticked, other])
    lines = csv_rows(browser.get(f"/passports/export/csv?{query}"))
    assert sorted(line[0] for line in lines[1:]) == sorted(p.plate_display for p in ticked)
    rows = xlsx_rows(browser.get(f"/passports/export/xlsx?{query}"))
    assert len(rows) == 1 + len(ticked)
    entry = world.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert "alleen de aangevinkte rijen" in str(entry.changes)
    assert entry.changes["rows"][1] == 2
    every = csv_rows(browser.get(f"/passports/export/csv?{query}&all=1&_flt_0_state=sent"))
    assert (
        len(every) - 1 == len(csv_rows(browser.get("/passports/export/csv?_flt_0_state=sent"))) - 1
    )
    assert browser.get("/passports/export/csv?id=abc").status_code == 400
