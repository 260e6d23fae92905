"""Amounts in euro cents, read and written the Dutch way (1.234,56)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from admin_app.services.errors import InvalidInput


def cents(value, *, field: str) -> int:
    """An amount as typed or exported in the Netherlands (`1.234,56`, `12,5`, `€ 80`,
    `-45,00`) or a JSON number, in cents; InvalidInput naming the field otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(float(value) * 100)
    raw = str(value if value is not None else "").replace("€", "").replace(" ", "").strip()
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")  # Dutch: 1.234,56
    if isinstance(value, bool) or not re.fullmatch(r"-?\d+(\.\d{1,2})?", raw):
        raise InvalidInput(
            _l("'%(value)s' is not an amount (e.g. 1.234,56).", value=value), field=field
        )
    return round(float(raw) * 100)


def euro(amount: int) -> str:
    """Dutch notation: € 1.234,56."""
    whole, rest = divmod(abs(int(amount)), 100)
    text = f"{whole:,}".replace(",", ".")
    return f"{'-' if amount < 0 else ''}€ {text},{rest:02d}"
