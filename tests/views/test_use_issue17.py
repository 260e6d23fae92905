"""Issue 17 (use): findings of using the merged parts, checked without a browser."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app.models import FleetAccount
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens, no SQL of their own")

DATA = Path(__file__).resolve().parents[1] / "data"


def test_issue17_only_the_queue_pages_allow_eval(world, login_as):
    """rq-dashboard's pages (Admin only) allow 'unsafe-eval' for its templates; the console's
    pages do not, and a script still needs the nonce on both."""
    admin = login_as("admin")
    queues = admin.get("/admin/rq/").headers["Content-Security-Policy"]
    home = admin.get("/").headers["Content-Security-Policy"]
    assert "'unsafe-eval'" in queues and "'nonce-" in queues
    assert "'unsafe-eval'" not in home and "'nonce-" in home


def test_issue17_a_list_run_now_says_it_waits_to_start_and_follows_itself(world, login_as):
    """R-BJ-4 with issue 17's claims: after "Run now" the job stays `scheduled` until a
    worker takes it. The page said "Scheduled for the night", "Runs at <now>", offered
    "Run now" again and stood still; now it says it waits to start and follows the job."""
    garage = login_as("garage-devries")
    upload = garage.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO((DATA / "klantenlijst-voorbeeld.csv").read_bytes()), "lijst.csv")},
        content_type="multipart/form-data",
    )
    job_url = upload.headers["Location"]
    job_id = int(job_url.rstrip("/").split("/")[-1])
    garage.post(f"/batch-jobs/{job_id}/confirm")
    tonight = garage.get(job_url).get_data(as_text=True)
    assert "Ingepland voor de nacht" in tonight and "Wacht op de start" not in tonight

    admin = login_as("admin")
    assert admin.post(f"/batch-jobs/{job_id}/run_now").status_code == 302
    for browser in (admin, garage):
        page = browser.get(job_url).get_data(as_text=True)
        assert "Wacht op de start" in page and "Ingepland voor de nacht" not in page
        assert "zodra de server er ruimte voor heeft" in page
        assert "volgt de voortgang vanzelf" in page and "window.location.reload" in page
        assert 'id="run-now"' not in page and "Draait op" not in page
    assert "Wacht op de start" in garage.get("/batch-jobs/list/").get_data(as_text=True)


def test_issue17_list_filters_speak_correct_dutch(world, login_as):
    """R-X-2: a list's filter choices; FAB's own Dutch said "Eindig niet met", "Bevat Niet"."""
    page = login_as("garage-jansen").get("/batch-jobs/list/").get_data(as_text=True)
    assert "Eindigt niet met" in page and "Bevat niet" in page
    assert "Eindig niet met" not in page and "Bevat Niet" not in page


def test_issue17_support_sees_no_buttons_to_pages_it_cannot_open(world, login_as):
    """Role matrix: Support reads proposals and fleets; its "Upload invoices" and "Name and
    login e-mail" buttons led to "Niet gevonden". The garage keeps both."""
    fleet_id = world.session.scalars(
        select(FleetAccount.id).where(FleetAccount.name.startswith("Bouwbedrijf Bakker"))
    ).one()
    for username, shown in (("support", False), ("garage-jansen", True)):
        browser = login_as(username)
        proposals = browser.get("/proposals/").get_data(as_text=True)
        fleet = browser.get(f"/fleet-accounts/show/{fleet_id}").get_data(as_text=True)
        assert ('href="/proposals/invoices"' in proposals) is shown, username
        assert (f'href="/fleet-accounts/{fleet_id}/settings"' in fleet) is shown, username
        assert browser.get("/proposals/invoices").status_code == (200 if shown else 404)


@pytest.mark.parametrize(
    ("path", "view", "column"),
    [
        ("/customers/list/", "CustomerView", "full_name"),
        ("/batch-jobs/list/", "BatchJobView", "progress"),
    ],
)
def test_issue17_list_headings_sort_only_by_what_the_database_can_sort(
    world, login_as, path, view, column
):
    """Clicking "Naam" (customers) or "Voortgang" (lists) sorted by a Python property: a 500.
    Now no sort link for them, and the old link is dropped instead of failing."""
    browser = login_as("garage-jansen")
    sort = f"_oc_{view}={column}"
    assert browser.get(f"{path}?{sort}&_od_{view}=asc").status_code == 302
    assert sort not in browser.get(path).get_data(as_text=True)
