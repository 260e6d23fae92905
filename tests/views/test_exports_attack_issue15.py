"""Issue 15 (attack): what a hostile garage tries on the list exports."""

from __future__ import annotations

import gc

import pytest

from admin_app.extensions import db


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
