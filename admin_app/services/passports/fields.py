"""What is typed about a passport: the owner's or driver's details, the car's, and the
check of each value (an odometer reading, a postcode, a date, a line of text).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

from flask_babel import lazy_gettext as _l

from admin_app.domain.dates import optional_date_field
from admin_app.domain.errors import InvalidInput
from admin_app.models import (
    Passport,
)
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.services.emails import normalize_email


@dataclass
class PersonDetails:
    """An owner's or driver's contact details as typed, checked by ``validated()``."""

    email: str = ""
    last_name: str = ""
    first_name: str = ""
    infix: str = ""
    street: str = ""
    house_number: str = ""
    postcode: str = ""
    city: str = ""
    phone: str = ""
    customer_number: str = ""

    @classmethod
    def from_mapping(cls, data) -> PersonDetails:
        names = {f.name for f in fields(cls)}
        return cls(**{k: typed_text(v) for k, v in (data or {}).items() if k in names})

    def validated(self) -> PersonDetails:
        """Normalized e-mail and a last name, or InvalidInput naming every bad field."""
        errors: dict[str, list] = {}
        try:
            self.email = normalize_email(self.email)
        except InvalidInput as error:
            errors.update(error.errors)
        if not self.last_name:
            errors["last_name"] = [_l("Fill in the last name.")]
        if errors:
            raise InvalidInput(_l("Some fields are not correct."), errors=errors)
        return self

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.infix, self.last_name) if p)


@dataclass
class VehicleDetails:
    """The car as typed when its passport is created; what was left empty the register
    answers (services/vehicle_values.py), it is not copied in."""

    brand: str = ""
    model: str = ""
    apk_expiry: dt.date | None = None
    fuel: str = ""
    first_registration: dt.date | None = None

    @classmethod
    def from_mapping(cls, data) -> VehicleDetails:
        data = data or {}
        return cls(
            brand=typed_text(data.get("brand")),
            model=typed_text(data.get("model")),
            apk_expiry=optional_date_field(data.get("apk_expiry"), field="apk_expiry"),
            fuel=typed_text(data.get("fuel")),
            first_registration=optional_date_field(
                data.get("first_registration"), field="first_registration"
            ),
        )

    def typed(self) -> dict:
        """Field → the typed value, None where nothing was typed."""
        return {
            "brand": self.brand or None,
            "model": self.model or None,
            "fuel": self.fuel or None,
            "first_registration": self.first_registration,
            "apk_expiry": self.apk_expiry,
        }


def typed_text(value) -> str:
    return "" if value is None else str(value).strip()


# What the profile and PUT /passport/<id> change of the car itself (R-PP-1), by kind.
VEHICLE_TEXT = ("brand", "model", "fuel")
VEHICLE_DATES = ("first_registration", "apk_expiry", "next_service", "mobility_renewal")
VEHICLE_FIELDS = (*VEHICLE_TEXT, *VEHICLE_DATES, "odometer")
PERSON_FIELDS = ("email", *CONTACT_FIELDS)
SOME_FIELDS_WRONG = _l("Some fields are not correct.")


# Odometer readings as a garage writes them: 168702, 168.702, 168,702 or 168 702, "km"
# after it or not; "12k" or "ca. 80.000" are refused rather than guessed.
_KILOMETRES = re.compile(r"^(\d{1,3}(?:[., ]\d{3})+|\d+)(?:\s*km)?$", re.IGNORECASE)
MAX_ODOMETER = 3_000_000  # as services/inspections: beyond any car's life


def parse_odometer(value, *, field: str = "odometer") -> int | None:
    """Kilometres as typed (see _KILOMETRES) or a JSON whole number; empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _KILOMETRES.match(typed_text(value)) if isinstance(value, str) else None
        number = int(re.sub(r"\D", "", match.group(1))) if match else -1
    if not 0 <= number <= MAX_ODOMETER:
        raise InvalidInput(
            _l(
                "'%(value)s' is not an odometer reading; type the kilometres in digits, "
                "e.g. 168702.",
                value=_shown(value),
            ),
            field=field,
        )
    return number


# Dutch postcodes: four digits (not starting with 0) and two letters, stored as "1234 AB".
_POSTCODE = re.compile(r"^([1-9]\d{3})\s*([A-Za-z]{2})$")


def normalize_postcode(value) -> str:
    """ "1234ab" → "1234 AB"; empty stays empty; anything else is refused."""
    text = typed_text(value)
    if not text:
        return ""
    match = _POSTCODE.match(text)
    if match is None:
        raise InvalidInput(
            _l(
                "'%(value)s' is not a Dutch postcode; type four digits and two letters, "
                "e.g. 1234 AB.",
                value=_shown(text),
            ),
            field="postcode",
        )
    return f"{match.group(1)} {match.group(2).upper()}"


def vehicle_value(name: str, value):
    """One vehicle field's value to store, or InvalidInput naming the field."""
    if name == "odometer":
        return parse_odometer(value)
    if name in VEHICLE_DATES:
        if isinstance(value, dt.date):
            return value
        date = optional_date_field(single_line(value, field=name), field=name)
        if date is not None and not 1900 <= date.year <= 2199:
            # Not a typing error a garage makes knowingly ("0024-05-01" for 2024).
            raise InvalidInput(
                _l("'%(value)s' is not a date; use YYYY-MM-DD or DD-MM-YYYY.", value=_shown(value)),
                field=name,
            )
        return date
    return single_line(value, field=name, max_length=column_length(Passport, name)) or None


def column_length(model, name: str) -> int:
    return model.__table__.c[name].type.length


def single_line(value, *, field: str, max_length: int = 100) -> str:
    """Text of one line that fits its column. A NUL (which PostgreSQL refuses in text: a
    500), another control character, a list or a number is refused with the field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_l("This must be text."), field=field)
    text = value.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidInput(
            _l("This may hold no tabs, line breaks or control characters."), field=field
        )
    if len(text) > max_length:
        raise InvalidInput(_l("At most %(count)s characters.", count=max_length), field=field)
    return text


def _shown(value) -> str:
    """A refused value quoted back, at most as long as a field on the screen."""
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"
