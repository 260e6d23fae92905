"""The weeks of the contact proposals (R-CP-2): a week's list is made on the Monday 06:00
(Europe/Amsterdam) of the week before and closes on the Sunday 15:00 before the visits'
week, summer and winter time alike.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from admin_app.domain.clock import AMSTERDAM
from admin_app.domain.errors import InvalidInput

RUN_WEEKDAY, RUN_HOUR = 0, 6  # Monday 06:00: the list for next week is made
CLOSE_HOUR = 15  # Sunday 15:00 before the visits' week: the list closes


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> dt.date:
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week or "")
    if not match:
        raise InvalidInput(_l("A week is written like 2026-W49."), field="week")
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(_l("A week is written like 2026-W49."), field="week") from None


def deadline(week: str) -> dt.datetime:
    """Sunday 15:00 Europe/Amsterdam before the week, in UTC (summer and winter time)."""
    sunday = week_monday(week) - dt.timedelta(days=1)
    return dt.datetime.combine(sunday, dt.time(CLOSE_HOUR), tzinfo=AMSTERDAM).astimezone(dt.UTC)


def is_closed(week: str, now: dt.datetime) -> bool:
    return now >= deadline(week)


def proposal_week(now: dt.datetime) -> str:
    """The week whose list is made by the run due at ``now``: the next ISO week."""
    local = now.astimezone(AMSTERDAM).date()
    return iso_week(local + dt.timedelta(days=7))


def run_due_at(week: str) -> dt.datetime:
    """Monday 06:00 Amsterdam of the week before ``week``."""
    monday = week_monday(week) - dt.timedelta(days=7)
    return dt.datetime.combine(monday, dt.time(RUN_HOUR), tzinfo=AMSTERDAM).astimezone(dt.UTC)


def open_week(now: dt.datetime) -> str:
    """The first week whose list can still be changed at ``now``."""
    week = iso_week(now.astimezone(AMSTERDAM).date() + dt.timedelta(days=7))
    return week if not is_closed(week, now) else iso_week(week_monday(week) + dt.timedelta(days=7))
