"""The batch issue's browser test (R-BJ-2…5): garage-devries uploads the list with errors,
sees the preview and confirms; admin runs it now; garage-devries downloads the refused
rows, fixes one and uploads it again."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.browser.conftest import log_in

DATA = Path(__file__).resolve().parents[1] / "data"


def run_queued_job(app, job_id):
    """What the worker does with the job admin started (no worker runs in this test)."""
    from admin_app.extensions import db
    from admin_app.jobs.batch import process_batch

    with app.app_context():
        process_batch(job_id)
        db.session.remove()


def test_upload_preview_confirm_run_now_fix_and_upload_again(page, app, world, tmp_path):
    log_in(page, "garage-devries")
    page.goto("/batch-jobs/upload")
    page.set_input_files("#file", str(DATA / "klantenlijst-met-fouten.csv"))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    counts = page.locator(".batch-counts").inner_text()
    assert "45 nieuw" in counts and "15 geweigerd" in counts
    assert "Kenteken herhaalt rij" in page.content()
    job_url = page.url
    job_id = int(job_url.rstrip("/").split("/")[-1])
    page.click("#confirm-job")
    page.wait_for_load_state()
    assert "vannacht om 01:00" in page.content()

    page.goto("/logout/")
    log_in(page, "admin")
    page.goto(job_url)
    page.click("#run-now")
    page.wait_for_load_state()
    run_queued_job(app, job_id)

    page.goto("/logout/")
    log_in(page, "garage-devries")
    page.goto(job_url)
    assert "Klaar" in page.locator(".batch-title").inner_text()
    with page.expect_download() as download_info:
        page.click("#refused-download")
    refused = tmp_path / "geweigerd.xlsx"
    download_info.value.save_as(refused)

    workbook = load_workbook(refused)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header[-1] == "reden"
    email_column = header.index("email") + 1
    fixable = next(
        r
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(r, len(header)).value == "E-mailadres ontbreekt."
    )
    sheet.cell(fixable, email_column).value = "hersteld@example.nl"
    for row in range(sheet.max_row, 1, -1):
        if row != fixable:
            sheet.delete_rows(row)
    workbook.save(refused)

    page.goto("/batch-jobs/upload")
    page.set_input_files("#file", str(refused))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "1 nieuw" in page.locator(".batch-counts").inner_text()
    assert "0 geweigerd" in page.locator(".batch-counts").inner_text()
