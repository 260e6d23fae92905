"""The one clock a garage reads: Europe/Amsterdam (R-X-2). Times are stored in UTC; every
time a person reads — on a screen, in a mail, a PDF, an export or the history — is shown
here. The API keeps ISO 8601 in UTC. A leaf module: models, services and views use it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local_datetime(value: dt.datetime | None, pattern: str = "%d-%m-%Y %H:%M") -> str:
    """A moment as a garage reads it: Europe/Amsterdam, summer and winter time alike.

    Our columns hold aware UTC times; FAB's own (a login's last login) are naive, written
    with the server's clock, which astimezone() reads as the server's local time."""
    if value is None:
        return "—"
    return value.astimezone(AMSTERDAM).strftime(pattern)


def local_date(value: dt.date | None) -> str:
    return "—" if value is None else value.strftime("%d-%m-%Y")


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Amsterdam: from midnight to 01:00 (02:00 in summer) the UTC date, and the
    server's own, is still yesterday."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(AMSTERDAM).date()
