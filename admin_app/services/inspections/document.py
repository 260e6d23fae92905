"""The inspection form's document (R-IN-2…5): the one definition of what a form holds.

A form's content is this document, stored as JSON on ``inspection_form.content`` and
copied whole into each version. The service builds it (a new draft) and changes it only
through ``FormDocument.with_edits``, which checks every edit; the screen, the printed and
read-only pages, the mail and the API's input schemas read its fields from here instead of
spelling the keys again. ``to_json`` writes exactly the keys and order the API has always
returned (SPEC's contract) and ``from_json`` reads every form stored so far.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from admin_app.domain.dates import date_field
from admin_app.domain.errors import InvalidInput
from admin_app.domain.plates import validate_plate
from admin_app.models.inspections import STATUSES
from admin_app.services.inspections.money import parse_price, vat_in

if TYPE_CHECKING:
    from admin_app.models import InspectionForm

# Bounds of what is typed into the document (the API's input schemas say the same).
MAX_TYPED_TEXT = 300
MAX_REMARK = 1000
MAX_ADVICE_DESCRIPTION = 500
MAX_ODOMETER = 3_000_000


@dataclass
class CustomerBlock:
    """Who the form is for: the passport owner's data when the form was made, or what
    was typed on a blank form."""

    name: str = ""
    email: str = ""
    phone: str = ""
    customer_number: str = ""
    address: str = ""


@dataclass
class VehicleBlock:
    """The car as the form records it that day (a form is a record of that day)."""

    plate: str = ""
    brand: str = ""
    model: str = ""
    odometer: int | None = None


@dataclass
class PassportDates:
    """The passport's three dates the form shows (R-IN-3), as ISO text; None: unknown."""

    next_service: str | None = None
    apk_expiry: str | None = None
    mobility_renewal: str | None = None

    def day(self, name: str) -> dt.date | None:
        value = getattr(self, name)
        return dt.date.fromisoformat(value) if value else None


@dataclass
class CheckpointResult:
    """One checkpoint of the checklist as it stood when the form was made, and its result."""

    checkpoint_id: int
    group: str
    name: str
    status: str | None = None  # one of models.inspections.STATUSES, None: not judged yet
    remark: str = ""


@dataclass
class AdviceLine:
    """An advice item: what, and its price in cents incl. 21% VAT (R-IN-4)."""

    description: str
    price_cents: int


# The labels the screen shows for the blocks typed on a blank form, in the order shown.
CUSTOMER_LABELS = {
    "name": _l("Name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "customer_number": _l("Customer number"),
    "address": _l("Address"),
}
VEHICLE_LABELS = {
    "plate": _l("Plate"),
    "brand": _l("Brand"),
    "model": _l("Model"),
    "odometer": _l("Odometer (km)"),
}
# The passport's dates a form shows (R-IN-3), in the order it shows them.
PASSPORT_DATES = {
    "next_service": _l("Next service"),
    "apk_expiry": _l("APK expiry"),
    "mobility_renewal": _l("Mobility service renewal"),
}
CUSTOMER_FIELDS = tuple(f.name for f in fields(CustomerBlock))
VEHICLE_FIELDS = tuple(f.name for f in fields(VehicleBlock))
DATE_FIELDS = tuple(f.name for f in fields(PassportDates))


def _known(block, data) -> dict:
    """The keys of ``data`` that are fields of ``block`` (older or erased content may lack some)."""
    names = {f.name for f in fields(block)}
    return {key: value for key, value in (data or {}).items() if key in names}


@dataclass
class FormDocument:
    """What a form holds: customer, vehicle, the passport's dates, the checkpoint results
    and the advice lines (R-IN-3, R-IN-4)."""

    customer: CustomerBlock = field(default_factory=CustomerBlock)
    vehicle: VehicleBlock = field(default_factory=VehicleBlock)
    dates: PassportDates = field(default_factory=PassportDates)
    results: list[CheckpointResult] = field(default_factory=list)
    advice: list[AdviceLine] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict | None) -> FormDocument:
        data = data or {}
        return cls(
            customer=CustomerBlock(**_known(CustomerBlock, data.get("customer"))),
            vehicle=VehicleBlock(**_known(VehicleBlock, data.get("vehicle"))),
            dates=PassportDates(**_known(PassportDates, data.get("dates"))),
            results=[
                CheckpointResult(**_known(CheckpointResult, r)) for r in data.get("results") or []
            ],
            advice=[AdviceLine(**_known(AdviceLine, a)) for a in data.get("advice") or []],
        )

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def total_cents(self) -> int:
        return sum(line.price_cents for line in self.advice)

    @property
    def vat_cents(self) -> int:
        return vat_in(self.total_cents)

    def groups(self) -> list[tuple[str, list[CheckpointResult]]]:
        """The results by checklist group, in the checklist's order."""
        grouped: dict[str, list[CheckpointResult]] = {}
        for result in self.results:
            grouped.setdefault(result.group, []).append(result)
        return list(grouped.items())

    def with_edits(self, changes: dict) -> FormDocument:
        """A new document with ``changes`` applied, each checked; the first refusal is
        raised naming its field (the API contract's flat names: ``advice.2.price``).

        ``changes`` may hold results [{checkpoint_id, status, remark}], advice
        [{description, price}], customer {…} and vehicle {…} (typed on a blank form) and
        dates {…}; parts it lacks stay as they are."""
        edited = replace(self)
        if "results" in changes:
            edited.results = edited_results(self.results, changes["results"])
        if "advice" in changes:
            edited.advice = advice_lines(changes["advice"])
        if "customer" in changes:
            edited.customer = CustomerBlock(
                **typed_block(asdict(self.customer), changes["customer"], "customer")
            )
        if "vehicle" in changes:
            edited.vehicle = VehicleBlock(
                **typed_block(asdict(self.vehicle), changes["vehicle"], "vehicle")
            )
        if "dates" in changes:
            edited.dates = edited_dates(self.dates, changes["dates"])
        return edited


def form_document(form: InspectionForm) -> FormDocument:
    """The form as it stands."""
    return FormDocument.from_json(form.content)


# --- checking the edits -------------------------------------------------------------------


def edited_results(current: list[CheckpointResult], edits) -> list[CheckpointResult]:
    """The checkpoints' statuses and remarks changed; an unknown checkpoint is refused."""
    if not isinstance(edits, list):
        raise InvalidInput(_l("Checkpoint results must be a list."), field="results")
    by_id = {result.checkpoint_id: result for result in current}
    for index, edit in enumerate(edits):
        if not isinstance(edit, dict) or edit.get("checkpoint_id") not in by_id:
            raise InvalidInput(_l("Unknown checkpoint."), field="results")
        result = by_id[edit["checkpoint_id"]]
        if "status" in edit:
            status = edit["status"] or None
            if status is not None and status not in STATUSES:
                raise InvalidInput(_l("Status must be ok, advice, urgent or na."), field="results")
            result = replace(result, status=status)
        if "remark" in edit:
            remark = str(edit["remark"] or "").strip()
            if len(remark) > MAX_REMARK:
                raise InvalidInput(
                    _l("A remark is at most 1000 characters."), field=f"results.{index}.remark"
                )
            result = replace(result, remark=remark)
        by_id[result.checkpoint_id] = result
    return [by_id[result.checkpoint_id] for result in current]


def advice_lines(items) -> list[AdviceLine]:
    """The advice as typed: empty lines of the screen left out, every other line needs a
    description and a price."""
    if not isinstance(items, list):
        raise InvalidInput(_l("Advice items must be a list."), field="advice")
    advice = []
    # Each refusal names its line (advice.<index>.<part>, the API contract's flat names),
    # so the screen marks the very field that was refused.
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(_l("Advice items must be a list."), field="advice")
        description = str(item.get("description") or "").strip()
        if not description and item.get("price") in (None, ""):
            continue  # an empty line of the screen
        if not description:
            raise InvalidInput(
                _l("Describe every advice item."), field=f"advice.{index}.description"
            )
        if len(description) > MAX_ADVICE_DESCRIPTION:
            raise InvalidInput(
                _l("An advice description is at most 500 characters."),
                field=f"advice.{index}.description",
            )
        try:
            price = parse_price(item.get("price"))
        except InvalidInput as refused:
            raise InvalidInput(refused.message, field=f"advice.{index}.price") from None
        advice.append(AdviceLine(description=description, price_cents=price))
    return advice


def typed_block(current: dict, edits, part: str) -> dict:
    """The customer or vehicle block typed by hand on a blank form, checked field by field."""
    if not isinstance(edits, dict):
        raise InvalidInput(_l("%(part)s must be an object.", part=part), field=part)
    updated = dict(current)
    for key in current:
        if key in edits:
            updated[key] = _typed_value(part, key, edits[key])
    return updated


def _typed_value(part: str, key: str, value):
    if key == "odometer":
        return odometer(value)
    text = str(value or "").strip()
    if len(text) > MAX_TYPED_TEXT:
        raise InvalidInput(_l("'%(field)s' is too long.", field=key), field=f"{part}.{key}")
    if key == "plate" and text:
        # A plate typed on a blank form is checked as everywhere (R-PP-2): `XX`
        # was saved and printed; the message says why a plate is refused.
        try:
            text = validate_plate(text)
        except InvalidInput as refused:
            raise InvalidInput(refused.message, field="vehicle.plate") from None
    return text


def odometer(value) -> int | None:
    """An odometer reading in km as typed ("123.456" too); empty: unknown."""
    if value in (None, ""):
        return None
    try:
        number = int(str(value).replace(".", "").strip())
    except ValueError:
        raise InvalidInput(
            _l("The odometer reading is not a number."), field="vehicle.odometer"
        ) from None
    if number < 0 or number > MAX_ODOMETER:
        raise InvalidInput(_l("The odometer reading is not a number."), field="vehicle.odometer")
    return number


def edited_dates(current: PassportDates, edits) -> PassportDates:
    if not isinstance(edits, dict):
        raise InvalidInput(_l("Dates must be an object."), field="dates")
    updated = asdict(current)
    for name in DATE_FIELDS:
        if name in edits:
            value = edits[name]
            updated[name] = date_field(value, name).isoformat() if value else None
    return PassportDates(**updated)
