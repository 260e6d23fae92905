"""Issue 8: a list page costs the same number of SQL statements for 1 row as for 100 —
no query per related column per row — with related records filled in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from admin_app.models import FleetAccount, Passport

LIST_PAGES = [
    ("garage-jansen", "PassportView"),
    ("garage-jansen", "CustomerView"),
    ("garage-jansen", "FleetAccountView"),
    ("eigenaar", "MyVehiclesView"),
    ("support", "PassportView"),
    ("support", "AuditLogView"),
    ("support", "OutboxView"),
    ("support", "GarageView"),
    ("admin", "ConsoleUserView"),
]


def _more_fleets(world):
    """Four fleet accounts with cars at Jansen, so the fleet list has rows to repeat on."""
    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    cars = (
        s.scalars(
            select(Passport).where(
                Passport.garage_id == jansen.id, Passport.fleet_account_id.is_(None)
            )
        )
        .unique()
        .all()
    )
    for index in range(4):
        fleet = FleetAccount(
            garage_id=jansen.id, name=f"Wagenpark {index}", email=f"wagenpark{index}@example.nl"
        )
        s.add(fleet)
        s.flush()
        for car in cars[index * 3 : index * 3 + 3]:
            car.fleet_account_id = fleet.id
    s.commit()


@pytest.mark.parametrize("username, view_name", LIST_PAGES)
def test_list_pages_cost_the_same_statements_for_1_and_100_rows(
    app, world, login_as, username, view_name
):
    from admin_app.extensions import db

    _more_fleets(world)
    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == view_name)
    with app.test_request_context():
        from flask import url_for

        url = url_for(f"{view.endpoint}.list")
    browser = login_as(username)
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*args):
        statements.append(1)

    measured = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for size in (1, 100):
            browser.client.get(f"{url}?psize_{view_name}={size}")  # warm: permissions cached
            statements.clear()
            page = browser.client.get(f"{url}?psize_{view_name}={size}")
            assert page.status_code == 200, (url, page.status_code)
            rows = len(re.findall(r"<tr[^>]*>\s*<td", page.get_data(as_text=True)))
            measured[size] = (len(statements), rows)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    (one, rows_one), (hundred, rows_hundred) = measured[1], measured[100]
    assert rows_hundred > rows_one, f"{view_name}: the test needs more than one row"
    # The audit log names the records its rows mention with one query per record type
    # (issue 14, R-SEC-2): more rows may mention more types, never more queries per row.
    allowed = _record_types_named() if view_name == "AuditLogView" else 0
    assert one <= hundred <= one + allowed, (
        f"{view_name}: {one} statements for 1 row, {hundred} for {rows_hundred}"
    )


def _record_types_named() -> int:
    from admin_app.services import audit

    return len(set(audit.REFERENCES.values()) | set(audit.RECORD_MODELS.values()))


def _statements(app, browser, url) -> tuple[int, int]:
    from admin_app.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def count(*args):
        statements.append(1)

    browser.client.get(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = browser.client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200
    return len(statements), len(re.findall(r"<tr[^>]*>\s*<td", page.get_data(as_text=True)))


def test_the_fleet_dashboard_costs_the_same_statements_for_more_cars(app, world, login_as):
    """One page with every car (no pagination): more cars, same statements."""
    browser = login_as("fleet-bakker")
    before, rows_before = _statements(app, browser, "/my-fleet/list/")
    fleet_id = world.user("fleet-bakker").fleet_account_id
    free = (
        world.session.scalars(
            select(Passport).where(
                Passport.garage_id == world.garage("Autobedrijf Jansen").id,
                Passport.fleet_account_id.is_(None),
                Passport.driver_id.is_(None),
            )
        )
        .unique()
        .all()[:6]
    )
    for car in free:
        car.fleet_account_id = fleet_id
    world.session.commit()
    after, rows_after = _statements(app, browser, "/my-fleet/list/")
    assert rows_after == rows_before + len(free)
    assert before == after


def test_the_incorrect_emails_list_costs_the_same_statements_for_more_rows(app, world, login_as):
    from admin_app.models import Customer
    from admin_app.models.base import utcnow

    browser = login_as("garage-jansen")
    before, rows_before = _statements(app, browser, "/invalid-emails/list/")
    owners = (
        world.session.scalars(
            select(Customer).where(
                Customer.garage_id == world.garage("Autobedrijf Jansen").id,
                Customer.email_bounced_at.is_(None),
            )
        )
        .unique()
        .all()[:5]
    )
    for owner in owners:
        owner.email_bounced_at = utcnow()
    world.session.commit()
    after, rows_after = _statements(app, browser, "/invalid-emails/list/")
    assert rows_after > rows_before
    assert before == after
