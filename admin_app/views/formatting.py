"""How values read on screen: Dutch dates, Amsterdam times, yes/no, a dash for nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
YES, NO = _l("Yes"), _l("No")


def display_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, dt.datetime):
        return local_datetime(value)
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def local_datetime(value: dt.datetime | None, pattern: str = "%d-%m-%Y %H:%M") -> str:
    """A moment as a garage reads it: Europe/Amsterdam, summer and winter time alike.

    Our columns hold aware UTC times; FAB's own (a login's last login) are naive, written
    with the server's clock, which astimezone() reads as the server's local time."""
    if value is None:
        return "—"
    return value.astimezone(AMSTERDAM).strftime(pattern)


def page_language() -> str:
    """The language of the page, for ``<html lang>``: the browser's own messages (a
    required field left empty, a wrong e-mail) then speak it too (R-X-2)."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "nl"
