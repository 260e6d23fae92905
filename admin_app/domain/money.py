"""Amounts in euro cents, read and written the Dutch way (1.234,56)."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 15  # euros: 15 digits, as a typed amount may have


def cents(value, *, field: str) -> int:
    """An amount as typed or exported in the Netherlands (`1.234,56`, `12,5`, `€ 80`,
    `-45,00`) or a JSON number, in cents; InvalidInput naming the field otherwise.

    Read as a Decimal, never a float: 0.29 as a float is 28.999… cents, and a float took
    12.345 as 1234 cents without a word. More than two decimals, NaN, infinity and
    numbers no euro amount reaches (1e308) are refused (issue 13).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise _not_an_amount(value, field)
    if isinstance(value, str):
        raw = value.replace("€", "").replace(" ", "").strip()
        if "," in raw:
            raw = raw.replace(".", "").replace(",", ".")  # Dutch: 1.234,56
        if not re.fullmatch(r"-?\d{1,15}(\.\d{1,2})?", raw):
            raise _not_an_amount(value, field)
        amount = Decimal(raw)
    else:
        # str() of a float is its shortest exact spelling: 12.34 stays 12.34.
        amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
            raise _not_an_amount(value, field)
        if amount != amount.quantize(CENT):
            raise InvalidInput(_l("An amount has at most two decimals."), field=field)
    return int(amount * 100)


def _not_an_amount(value, field: str) -> InvalidInput:
    shown = str(value)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"  # never echo 100,000 characters
    return InvalidInput(
        _l("'%(value)s' is not an amount (e.g. 1.234,56).", value=shown), field=field
    )


def euro(amount: int) -> str:
    """Dutch notation: € 1.234,56."""
    whole, rest = divmod(abs(int(amount)), 100)
    text = f"{whole:,}".replace(",", ".")
    return f"{'-' if amount < 0 else ''}€ {text},{rest:02d}"
