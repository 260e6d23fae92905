"""Issue 14 (one clock): every time on a screen is Europe/Amsterdam, stored UTC, across
midnight and both DST changes."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from admin_app.models import AuditLog, OutboxMessage
from admin_app.views.formatting import local_datetime

UTC = dt.UTC


@pytest.mark.parametrize(
    "stored, shown",
    [
        (dt.datetime(2026, 12, 1, 23, 46, tzinfo=UTC), "02-12-2026 00:46"),  # over midnight
        (dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29-03-2026 01:59"),  # winter time
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29-03-2026 03:00"),  # summer from here
        (dt.datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "25-10-2026 02:59"),  # summer time
        (dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "25-10-2026 02:00"),  # winter again
    ],
)
def test_issue14_times_are_amsterdam_across_midnight_and_dst(stored, shown):
    assert local_datetime(stored) == shown


def test_issue14_fabs_naive_server_times_are_amsterdam_too(monkeypatch):
    """FAB writes a login's last login with the server's clock, without a zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert local_datetime(dt.datetime(2026, 12, 1, 23, 46)) == "02-12-2026 00:46"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_issue14_the_passport_page_shows_one_clock(world, login_as):
    s = world.session
    late = dt.datetime(2026, 12, 1, 23, 46, tzinfo=UTC)
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[0]
    passport.created_at = late
    for mail in s.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == passport.owner.email)
    ):
        mail.created_at = late
    for entry in s.scalars(select(AuditLog).where(AuditLog.passport_id == passport.id)):
        entry.at = late
    s.commit()
    page = login_as("garage-jansen").get(f"/passports/show/{passport.id}").get_data(as_text=True)
    assert "02-12-2026 00:46" in page
    assert "01-12-2026 23:46" not in page
