"""Issue 15 (attack): an Excel export a worker builds holds the rows of the screen it was
asked on — also for the screens that are not FAB's lists (a batch job's rows, the
inspection forms, the week's proposals, the invoices); the fleet dashboard's file is
always written in the request."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from admin_app.jobs.exports import build_export_file
from admin_app.models import ContactProposal, ExportFile
from admin_app.services import exports
from tests.mails import run_queued
from tests.views.test_list_exports_issue15 import _upload_own_passports


def _rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _url(world, browser, screen: str) -> str:
    if screen == "rows":
        job_id = _upload_own_passports(browser)
        return f"/batch-jobs/{job_id}/rows/export/xlsx?outcome=unchanged"
    if screen == "proposals":
        week = world.session.scalar(
            select(ContactProposal.week)
            .where(ContactProposal.garage_id == world.garage("Autobedrijf Jansen").id)
            .order_by(ContactProposal.week)
        )
        return f"/proposals/export/xlsx?week={week}"
    return {
        "forms": "/inspections/all/export/xlsx",
        "invoices": "/proposals/invoices/export/xlsx",
    }[screen]


@pytest.mark.parametrize(
    ("screen", "username"),
    [
        ("rows", "garage-jansen"),
        ("forms", "garage-jansen"),
        ("proposals", "garage-jansen"),
        ("invoices", "garage-jansen"),
    ],
)
def test_issue15_attack_worker_excel_of_a_screen_that_is_not_fabs_list(
    app, world, login_as, monkeypatch, screen, username
):
    """Issue 15 (R-SEC-1, lists to Excel): above XLSX_IN_REQUEST rows the worker rebuilt
    the file through the view class's FAB list — a job's rows came out as the list of
    batch jobs, the forms' screen failed. The worker's file must equal the request's."""
    run_queued(app, build_export_file, perform=False)  # jobs earlier tests left behind
    browser = login_as(username)
    url = _url(world, browser, screen)
    in_request = browser.get(url)
    assert in_request.status_code == 200, in_request.get_data(as_text=True)[:400]
    expected = _rows(in_request.get_data())
    assert len(expected) > 1, "the screen must have rows to compare"

    monkeypatch.setattr(exports, "XLSX_IN_REQUEST", 0)
    asked = browser.get(url)
    assert asked.status_code == 302 and "/exports/" in asked.headers["Location"]
    run_queued(app, build_export_file)
    world.session.expire_all()
    file = world.session.scalars(select(ExportFile).order_by(ExportFile.id.desc())).first()
    assert file.state == "done", file.error
    download = browser.get(asked.headers["Location"] + "/download")
    assert download.status_code == 200
    assert _rows(download.get_data()) == expected


def test_issue15_fleet_excel_is_written_in_the_request_whatever_its_size(
    world, login_as, monkeypatch
):
    """Issue 15: the fleet dashboard's rows are worked out in Python (marks, advice,
    recalls), which no worker could rerun: its Excel file is never a worker's job."""
    browser = login_as("fleet-bakker")
    monkeypatch.setattr(exports, "XLSX_IN_REQUEST", 0)
    response = browser.get("/my-fleet/export/xlsx?show=overdue")
    assert response.status_code == 200, response.headers.get("Location")
    assert len(_rows(response.get_data())) > 1
