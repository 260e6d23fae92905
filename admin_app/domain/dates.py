"""A date as people and files write it (issue 20: one reading, where there were two with
different contracts).

Garages type d-m-yyyy, the API sends YYYY-MM-DD, spreadsheets hold date cells or text in
either form (also with / or .). ``read_date`` reads any of these or says None; ``date_field``
is the same for a field that must hold one, refusing in words that name the field.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput

_DUTCH_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_PATTERNS = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")


def read_date(value) -> dt.date | None:
    """A date as Dutch lists and forms write it (d-m-yyyy), ISO, or a spreadsheet's date
    cell; None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    dutch = _DUTCH_DATE.fullmatch(text)
    if dutch:
        day, month, year = map(int, dutch.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    for pattern in _PATTERNS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def date_field(value, field: str) -> dt.date:
    """``read_date`` of a field that must hold a date; InvalidInput on ``field`` saying how
    to write one."""
    day = read_date(value) if value not in (None, "") else None
    if day is None:
        raise InvalidInput(
            _l(
                "'%(value)s' is not a date; use YYYY-MM-DD or DD-MM-YYYY.",
                value=str(value or "").strip(),
            ),
            field=field,
        )
    return day


def optional_date_field(value, field: str) -> dt.date | None:
    """``date_field`` where empty means no date."""
    return None if value in (None, "") else date_field(value, field)
