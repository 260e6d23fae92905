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
        if value.tzinfo is not None:
            value = value.astimezone(AMSTERDAM)
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    return str(value)
