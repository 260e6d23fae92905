"""The passport dates a form shows (R-IN-3): those earlier than the inspection date +
4 calendar months, passed ones marked overdue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from admin_app.services.inspections.document import PASSPORT_DATES, PassportDates

DATE_WINDOW_MONTHS = 4


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later; the 31st becomes the month's last day where needed."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class ShownDate:
    name: str
    label: str
    date: dt.date
    overdue: bool


def dates_to_show(dates: PassportDates, inspection_date: dt.date) -> list[ShownDate]:
    """The passport dates earlier than inspection date + 4 months; unknown ones left out,
    passed ones marked overdue."""
    limit = add_months(inspection_date, DATE_WINDOW_MONTHS)
    shown = []
    for name, label in PASSPORT_DATES.items():
        value = dates.day(name)
        if value is not None and value < limit:
            shown.append(ShownDate(name, str(label), value, value < inspection_date))
    return shown
