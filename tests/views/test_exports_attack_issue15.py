"""Issue 15 (attack): what a hostile garage tries on the list exports."""

from __future__ import annotations

import gc
import io

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import BatchJob


def _checked_out(app) -> int:
    with app.app_context():
        return db.engine.pool.checkedout()


@pytest.mark.parametrize(
    "url", ["/passports/export/csv", "/customers/export/csv", "/batch-jobs/export/csv"]
)
def test_issue15_attack_csv_downloads_give_their_connection_back(app, world, login_as, url):
    """Issue 15 (lists to Excel; R-X-4): a CSV streams after the request's teardown; its
    connection stayed checked out until garbage collection, so a garage clicking "CSV"
    fifteen times exhausted the web process's pool (every next request: 30 s, then 500).
    Each download read to its end gives its connection back."""
    browser = login_as("garage-jansen")
    gc.disable()  # a cycle collected by chance would hide the leak
    try:
        for _ in range(3):
            response = browser.get(url)
            assert response.status_code == 200
            response.get_data()
            response.close()
            assert _checked_out(app) == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_issue15_attack_a_text_starting_with_a_guard_survives_the_round_trip(world, login_as, fmt):
    """Issue 15 / R-BJ-1: a value stored with a leading apostrophe before '=', '+', '-'
    (the profile and PUT take "'=Dorpsstraat", as Excel users type it) came back without
    it: the reader strips the export's guard, which the export had not added to it. The
    re-uploaded export read as "bijgewerkt" instead of "ongewijzigd"."""
    jansen = world.garage("Autobedrijf Jansen")
    customer = next(p.owner for p in world.passports(garage_id=jansen.id, state="sent"))
    customer.street, customer.customer_number = "'=Dorpsstraat", "''-17"
    world.session.commit()
    browser = login_as("garage-jansen")
    data = browser.get(f"/passports/export/{fmt}?_flt_1_state=archived").get_data()
    response = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO(data), f"export.{fmt}")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    world.session.expire_all()
    job = world.session.scalars(select(BatchJob).order_by(BatchJob.id.desc())).first()
    assert not job.counts.get("update") and not job.counts.get("create"), job.counts
    assert job.counts.get("unchanged") == job.total_rows


def test_issue15_attack_fleet_export_is_the_dashboard_as_filtered_and_sorted(world, login_as):
    """Issue 15 / R-FL-5: "exports what the user sees — the current filters": the fleet
    dashboard filtered on 'overdue' and sorted by APK exported every car of the fleet by
    plate. The file holds the dashboard's cars for its show and sort, in its order."""
    from admin_app.domain.clock import local_today
    from admin_app.services import fleets

    browser = login_as("fleet-bakker")
    fleet_id = world.user("fleet-bakker").fleet_account_id
    page = browser.get("/my-fleet/list/?show=overdue&sort=apk_expiry").get_data(as_text=True)
    assert 'href="/my-fleet/export/csv?show=overdue&amp;sort=apk_expiry"' in page
    shown = fleets.fleet_dashboard(
        world.session, fleet_id, today=local_today(), show="overdue", sort="apk_expiry"
    )
    assert 0 < shown.total < shown.fleet_total
    response = browser.get("/my-fleet/export/csv?show=overdue&sort=apk_expiry")
    lines = [line.split(";") for line in response.get_data().decode("utf-8-sig").split("\r\n")]
    plates = [line[0] for line in lines[1:] if line[0]]
    assert plates == [row.passport.plate_display for row in shown.rows]
