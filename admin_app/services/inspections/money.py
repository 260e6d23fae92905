"""The amounts on an inspection form (R-IN-4): advice prices in cents incl. 21% VAT."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput
from admin_app.domain.money import cents

VAT_PERCENT = 21
MAX_ADVICE_CENTS = 10_000_000  # € 100.000,00: a typo, not a repair


def parse_price(text) -> int:
    """A price incl. VAT in cents; refuses empty, negative, non-numeric and absurd amounts."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise InvalidInput(_l("Fill in a price."), field="price")
    price = cents(text, field="price")
    if price < 0:
        raise InvalidInput(_l("A price cannot be negative."), field="price")
    if price > MAX_ADVICE_CENTS:
        raise InvalidInput(_l("That price is too high for an advice item."), field="price")
    return price


def vat_in(cents: int) -> int:
    """The VAT contained in a price incl. 21% VAT."""
    return round(cents * VAT_PERCENT / (100 + VAT_PERCENT))
