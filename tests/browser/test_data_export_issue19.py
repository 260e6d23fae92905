"""Issue 19 (R-DR-1) in Chromium: a garage exports its customer's data and downloads it."""

from __future__ import annotations

import json
import zipfile

from sqlalchemy import select

from admin_app.jobs.data_exports import build_data_export
from admin_app.models import Customer
from tests.browser.conftest import log_in
from tests.mails import run_queued


def test_issue19_garage_exports_its_customer_and_downloads(app, page, world, tmp_path, monkeypatch):
    """R-DR-1: from the customer's page, "Gegevens exporteren"; the page follows the
    worker by itself and offers the ZIP; the ZIP holds the summary and the data."""
    monkeypatch.setitem(app.config, "DATA_EXPORT_FOLDER", str(tmp_path / "exports"))
    jansen = world.garage("Autobedrijf Jansen")
    customer = world.session.scalars(
        select(Customer).where(Customer.garage_id == jansen.id).order_by(Customer.id)
    ).first()
    log_in(page, "garage-jansen")
    page.goto(f"/customers/show/{customer.id}")
    page.get_by_role("button", name="Gegevens exporteren").click()
    page.wait_for_load_state()
    assert "Wordt gemaakt" in page.inner_text(".data-export")
    assert run_queued(app, build_data_export) == 1  # the worker
    page.locator(".data-export-download").wait_for()  # the page reloads by itself
    assert "Klaar om te downloaden" in page.inner_text(".data-export")
    with page.expect_download() as download_info:
        page.click(".data-export-download")
    path = tmp_path / "export.zip"
    download_info.value.save_as(path)
    archive = zipfile.ZipFile(path)
    data = json.loads(archive.read("gegevens.json"))
    assert [row["id"] for row in data["profile"]] == [customer.id]
    summary = archive.read("overzicht.html").decode()
    assert customer.last_name in summary and "Uw gegevens" in summary


def test_issue19_owner_exports_himself_from_my_vehicles(app, page, world, tmp_path, monkeypatch):
    """R-DR-1: the Owner's "Mijn gegevens exporteren" covers every garage where he is a
    customer; the ZIP downloads from the page that followed the worker."""
    monkeypatch.setitem(app.config, "DATA_EXPORT_FOLDER", str(tmp_path / "exports"))
    log_in(page, "eigenaar")
    page.goto("/my-vehicles/list/")
    page.get_by_role("button", name="Mijn gegevens exporteren").click()
    page.wait_for_load_state()
    assert "elke garage" in page.inner_text(".data-export")
    assert run_queued(app, build_data_export) == 1
    page.locator(".data-export-download").wait_for()
    with page.expect_download() as download_info:
        page.click(".data-export-download")
    path = tmp_path / "mine.zip"
    download_info.value.save_as(path)
    data = json.loads(zipfile.ZipFile(path).read("gegevens.json"))
    assert data["export"]["scope"] == "person"
    assert {row["email"].lower() for row in data["profile"]} == {"eigenaar@example.nl"}
