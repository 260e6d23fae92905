"""Issue 14 (one clock), beyond the screens: a time in the PDF, a mail or an export is
Europe/Amsterdam, across midnight and both DST changes; "today" is Amsterdam's; the API
keeps ISO 8601 in UTC."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app.domain.clock import local_today
from admin_app.models import InspectionForm, InspectionFormVersion, OutboxMessage

UTC = dt.UTC
ROOT = Path(__file__).resolve().parents[2] / "admin_app"
# A UTC time as Python or a database writes it: 2026-12-01T23:46, 23:46:37+00:00, … UTC.
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\+00:00|\bUTC\b")

MOMENTS = [
    (dt.datetime(2026, 12, 1, 23, 46, tzinfo=UTC), "02-12-2026 00:46"),  # over midnight
    (dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29-03-2026 01:59"),  # winter time
    (dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29-03-2026 03:00"),  # summer from here
    (dt.datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "25-10-2026 02:59"),  # summer time
    (dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "25-10-2026 02:00"),  # winter again
]


@pytest.mark.parametrize(
    "now, today",
    [
        (dt.datetime(2026, 12, 1, 22, 59, tzinfo=UTC), dt.date(2026, 12, 1)),
        (dt.datetime(2026, 12, 1, 23, 0, tzinfo=UTC), dt.date(2026, 12, 2)),  # winter midnight
        (dt.datetime(2026, 6, 30, 21, 59, tzinfo=UTC), dt.date(2026, 6, 30)),
        (dt.datetime(2026, 6, 30, 22, 0, tzinfo=UTC), dt.date(2026, 7, 1)),  # summer midnight
        (dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC), dt.date(2026, 3, 29)),  # DST night
        (dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC), dt.date(2026, 10, 25)),
    ],
)
def test_issue14_today_is_amsterdams(now, today):
    """Performed work noted at 00:30 is not "in the future"; the inspection day ends at
    Amsterdam's midnight, not the server's."""
    assert local_today(now) == today


def test_issue14_no_rule_asks_the_servers_clock_for_today():
    """The server runs in UTC: date.today() and naive now() are yesterday after midnight."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.rglob("*.py")
        if path.name != "demo.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"date\.today\(\)|datetime\.now\(\)|datetime\.today\(\)", line)
    ]
    assert offenders == []


def _saved_form(session):
    return session.scalars(
        select(InspectionForm).where(InspectionForm.version > 0).order_by(InspectionForm.id)
    ).first()


@pytest.mark.parametrize("stored, shown", MOMENTS)
def test_issue14_the_printed_form_is_dated_in_amsterdam(app, world, stored, shown):
    """R-IN-5: "Version 1 of <date time>" on the PDF is the garage's time."""
    from admin_app.services.inspections import print_html

    session = world.session
    form = _saved_form(session)
    for version in session.scalars(
        select(InspectionFormVersion).where(InspectionFormVersion.form_id == form.id)
    ):
        version.saved_at = stored
    session.flush()
    with app.test_request_context("/"):
        html = print_html(session, form)
    assert shown in html
    assert stored.strftime("%d-%m-%Y %H:%M") not in html
    assert not UTC_TIME.search(html)
    session.rollback()


def test_issue14_no_mail_holds_a_utc_time(app, world):
    """Every kind of mail the demo has queued, as the worker writes it."""
    from admin_app.services.mails import render_mail

    session = world.session
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    kinds = {}
    for message in messages:
        kinds.setdefault(message.kind, message)
    assert kinds
    with app.test_request_context("/"):
        for kind, message in kinds.items():
            mail = render_mail(session, message)
            assert not UTC_TIME.search(mail.text), kind
            assert not UTC_TIME.search(mail.html), kind
    session.rollback()


def test_issue14_the_conversion_export_holds_no_utc_time(app, world, acting_as):
    from io import BytesIO

    from openpyxl import load_workbook

    from admin_app.services.proposals import conversion, conversion_xlsx

    with acting_as("garage-jansen"):
        data = conversion_xlsx(conversion(world.session))
    cells = [
        c for row in load_workbook(BytesIO(data)).active.iter_rows(values_only=True) for c in row
    ]
    assert not any(isinstance(c, dt.datetime) for c in cells)
    assert not any(isinstance(c, str) and UTC_TIME.search(c) for c in cells)


def test_issue14_the_api_keeps_utc(world, api_client):
    """The API answers ISO 8601 in UTC: programs convert, people read the screens."""
    form = _saved_form(world.session)
    form.saved_at = dt.datetime(2026, 12, 1, 23, 46, 37, tzinfo=UTC)
    world.session.commit()
    body = api_client("garage-jansen").get(f"/api/v1/inspection_form/{form.id}").get_json()
    saved = body["result"]["saved_at"]
    assert saved.startswith("2026-12-01T23:46:37")
    assert dt.datetime.fromisoformat(saved.replace("Z", "+00:00")) == form.saved_at
