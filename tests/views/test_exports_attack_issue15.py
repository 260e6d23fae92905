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
