"""Issue 15: an Excel export above XLSX_IN_REQUEST rows is built by a worker, kept in the
database, shown with its progress, downloadable by the user who asked for 24 hours."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import select

from admin_app.jobs.exports import build_export_file
from admin_app.models import ExportFile
from admin_app.models.base import utcnow
from admin_app.services import export_files, exports
from tests.mails import run_queued


def _rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _large_export(app, world, login_as, monkeypatch):
    run_queued(app, build_export_file, perform=False)  # jobs earlier tests left behind
    monkeypatch.setattr(exports, "XLSX_IN_REQUEST", 5)
    browser = login_as("garage-jansen")
    in_request = browser.get("/passports/export/csv?_flt_0_state=sent&_l_=nl")
    plates = [
        line.split(";")[0]
        for line in in_request.get_data().decode("utf-8-sig").split("\r\n")[1:]
        if line
    ]
    asked = browser.get("/passports/export/xlsx?_flt_0_state=sent")
    assert asked.status_code == 302 and "/exports/" in asked.headers["Location"]
    return browser, asked.headers["Location"], plates


def test_issue15_large_xlsx_is_a_worker_job_with_progress_and_download(
    app, world, login_as, monkeypatch
):
    """Issue 15: above XLSX_IN_REQUEST rows the request queues a job and shows its page;
    the worker reruns the screen's query (filter, order, scope) and keeps the file; the
    page then offers the download, whose rows are the screen's."""
    browser, page_url, plates = _large_export(app, world, login_as, monkeypatch)
    page = browser.get(page_url).get_data(as_text=True)
    assert "Wacht op zijn beurt" in page and "0 van" in page
    assert run_queued(app, build_export_file) == 1
    page = browser.get(page_url).get_data(as_text=True)
    assert "Klaar" in page and "Alleen u kunt dit bestand downloaden" in page
    download = browser.get(page_url + "/download")
    assert download.status_code == 200 and download.mimetype == exports.XLSX_MIMETYPE
    rows = _rows(download.get_data())
    assert rows[0][0] == "Kenteken" and [row[0] for row in rows[1:]] == plates
    world.session.expire_all()
    file = world.session.scalars(select(ExportFile)).one()
    assert file.state == "done" and file.progress == file.rows == len(plates)
    assert file.expires_at - file.created_at == dt.timedelta(hours=24)


def test_issue15_only_the_user_who_asked_gets_the_file(app, world, login_as, monkeypatch):
    """Issue 15 / R-SEC-1: another user — another garage, Support — gets 404."""
    _, page_url, _ = _large_export(app, world, login_as, monkeypatch)
    run_queued(app, build_export_file)
    for username in ("garage-devries", "support"):
        other = login_as(username)
        assert other.get(page_url).status_code == 404
        assert other.get(page_url + "/download").status_code == 404


def test_issue15_an_expired_file_is_gone(app, world, login_as, monkeypatch):
    """Issue 15: after 24 hours the link says the file was removed (410), and the clock's
    purge drops its bytes."""
    browser, page_url, _ = _large_export(app, world, login_as, monkeypatch)
    run_queued(app, build_export_file)
    file = world.session.scalars(select(ExportFile)).one()
    file.expires_at = utcnow() - dt.timedelta(minutes=1)
    world.session.commit()
    for url in (page_url, page_url + "/download"):
        response = browser.get(url)
        assert response.status_code == 410
        assert "24 uur bewaard" in response.get_data(as_text=True)
    assert export_files.purge_expired(world.session, utcnow()) == 1
    world.session.commit()
    world.session.expire_all()
    assert world.session.scalars(select(ExportFile.data)).one() is None
