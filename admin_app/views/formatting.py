"""How values read on screen: Dutch dates, Amsterdam times, yes/no, a dash for nothing."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from admin_app.domain.clock import local_date, local_datetime

YES, NO = _l("Yes"), _l("No")
# A form's save or delete, said the same on every screen (FAB's own read "Rij gewijzigd").
SAVED, DELETED = _l("Saved."), _l("Deleted.")


def display_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, dt.datetime):
        return local_datetime(value)
    if isinstance(value, dt.date):
        return local_date(value)
    return str(value)


def week_name(iso_week: str) -> str:
    """An ISO week as a garage says it: "week 50, 2026" for "2026-W50"."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", iso_week or "")
    if match is None:
        return iso_week
    return str(_l("week %(number)d, %(year)d", number=int(match[2]), year=int(match[1])))


def page_language() -> str:
    """The language of the page, for ``<html lang>``: the browser's own messages (a
    required field left empty, a wrong e-mail) then speak it too (R-X-2)."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "nl"
