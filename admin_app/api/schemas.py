"""What each API endpoint accepts in its JSON body: one schema per endpoint (issue 13,
R-X-4: never a 500 for bad input).

The services check the rules (a known plate, a valid e-mail, a date that exists); these
schemas check what a rule cannot be asked to: that text is text and fits its column
(PostgreSQL refuses a longer value with an error, SQLite stores it), that an id is a
whole number in the id range, that a list is a list. `{"name": 123}` reached `.strip()`,
a 30-digit id reached the database; both were 500s. Unknown fields are left out, as
before. Lengths come from the columns the values are stored in.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from admin_app.models import Customer, FleetAccount, Passport
from admin_app.models.inspections import InspectionForm, InspectionInvitation, PerformedWork
from admin_app.models.proposals import Invoice

MAX_ID = 2**31 - 1  # primary keys are 32-bit integers
DATE_LENGTH = 20  # YYYY-MM-DD or d-m-yyyy, with room for spaces

# marshmallow's own messages are English; the contract's are Dutch (English with ?_l_=en).
MESSAGES = {
    "required": _l("Fill this in."),
    "null": _l("This may not be empty."),
    "validator_failed": _l("This value is not correct."),
}


def column_length(model, column: str) -> int:
    return model.__table__.c[column].type.length


class Text(fields.String):
    """Text (never a number, list or object) of at most ``max_length`` characters."""

    default_error_messages = {**MESSAGES, "invalid": _l("This must be text.")}

    def __init__(self, max_length: int, **kwargs):
        kwargs.setdefault("allow_none", True)  # documents what deserialize takes
        super().__init__(
            validate=validate.Length(max=max_length, error=_l("At most {max} characters.")),
            **kwargs,
        )

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None:
            return ""  # a client's null is an empty field, as the services always took it
        return super().deserialize(value, attr, data, **kwargs)


class Id(fields.Integer):
    """A record's id: a whole number (or its digits as text) within the id range."""

    default_error_messages = {**MESSAGES, "invalid": _l("This must be a whole number.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(
            validate=validate.Range(min=1, max=MAX_ID, error=_l("No such record.")), **kwargs
        )


class Flag(fields.Boolean):
    default_error_messages = {**MESSAGES, "invalid": _l("This must be true or false.")}


class TextOrNumber(fields.Field):
    """An amount or a reading as typed ("1.234,56") or as a JSON number; the service
    reads it (domain.money refuses what is not an amount)."""

    default_error_messages = {**MESSAGES, "invalid": _l("This must be text or a number.")}

    def __init__(self, max_length: int = 40, **kwargs):
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault(
            "oneOf", [{"type": "string", "maxLength": max_length}, {"type": "number"}]
        )
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.make_error("invalid")
        if isinstance(value, str) and len(value) > self.max_length:
            raise self.make_error("invalid")
        return value


class Nested(fields.Nested):
    default_error_messages = {**MESSAGES, "type": _l("This must be an object.")}


class List(fields.List):
    default_error_messages = {**MESSAGES, "invalid": _l("This must be a list.")}


class InputSchema(Schema):
    class Meta:
        unknown = EXCLUDE


class NoBody(InputSchema):
    """Actions that take no input: whatever is sent is left out."""


# --- passports and customers -------------------------------------------------------------


class Person(InputSchema):
    """The e-mail and CONTACT_FIELDS of an owner or driver (services.PersonDetails)."""

    email = Text(column_length(Customer, "email"))
    first_name = Text(column_length(Customer, "first_name"))
    infix = Text(column_length(Customer, "infix"))
    last_name = Text(column_length(Customer, "last_name"))
    street = Text(column_length(Customer, "street"))
    house_number = Text(column_length(Customer, "house_number"))
    postcode = Text(column_length(Customer, "postcode"))
    city = Text(column_length(Customer, "city"))
    phone = Text(column_length(Customer, "phone"))
    customer_number = Text(column_length(Customer, "customer_number"))

    example = {"email": "j.devries@example.nl", "phone": "06 12345678"}


class ErasureInput(InputSchema):
    """POST /customer/<id>/erase (issue 19, R-DR-2): the customer's request, as Support
    records it."""

    reason = Text(500)
    requested_on = Text(DATE_LENGTH, metadata={"description": "YYYY-MM-DD, not in the future"})

    example = {"reason": "Verzoek van de klant per e-mail", "requested_on": "2026-12-01"}


class PassportInput(Person):
    """POST and PUT /passport/: the flat fields of the contract."""

    plate = Text(20)  # stored normalized in 16; typed with dashes or spaces
    brand = Text(column_length(Passport, "brand"))
    model = Text(column_length(Passport, "model"))
    apk_expiry = Text(DATE_LENGTH, metadata={"description": "YYYY-MM-DD"})
    # Left empty, these five are the vehicle register's (issue 18).
    fuel = Text(column_length(Passport, "fuel"))
    first_registration = Text(DATE_LENGTH, metadata={"description": "YYYY-MM-DD"})
    fleet_account_id = Id()

    example = {
        "plate": "12-ABC-3",
        "email": "j.devries@example.nl",
        "first_name": "Jan",
        "last_name": "de Vries",
        "postcode": "1234 AB",
        "house_number": "12",
        "brand": "Volkswagen",
        "model": "Golf",
        "apk_expiry": "2027-05-31",
    }


class PassportChanges(PassportInput):
    """PUT /passport/<id>: the contract's fields and the rest of what the profile edits
    (R-PP-1); services.passports.update_passport checks them as it does the screen's.
    Only the fields given are changed; the plate cannot change; the owner's details are
    one customer record, shared by all his cars at the garage (an e-mail follows R-PP-7)."""

    next_service = Text(DATE_LENGTH, metadata={"description": "YYYY-MM-DD"})
    mobility_renewal = Text(DATE_LENGTH, metadata={"description": "YYYY-MM-DD"})
    odometer = TextOrNumber(20, metadata={"description": "kilometres, a whole number"})

    example = {"email": "j.devries@example.nl", "apk_expiry": "2027-05-31", "odometer": 84500}


class TransferInput(Person):
    kind = Text(10)

    example = {
        "kind": "owner",
        "email": "p.jansen@example.nl",
        "first_name": "Petra",
        "last_name": "Jansen",
    }


class FleetLink(InputSchema):
    fleet_account_id = Id()

    example = {"fleet_account_id": 3}


class MoveInput(InputSchema):
    garage_id = Id()

    example = {"garage_id": 2}


class FleetAccountInput(InputSchema):
    name = Text(column_length(FleetAccount, "name"))
    email = Text(column_length(FleetAccount, "email"))
    manager_passport_id = Id()

    example = {
        "name": "Bouwbedrijf Bakker",
        "email": "wagenpark@bakker.example.nl",
        "manager_passport_id": 812,
    }


# --- inspection forms -----------------------------------------------------------------------


class NewInspectionForm(InputSchema):
    kind = Text(column_length(InspectionForm, "kind"))
    passport_id = Id()
    inspector = Text(column_length(InspectionForm, "inspector"))
    inspection_date = Text(DATE_LENGTH)

    example = {
        "kind": "customer",
        "passport_id": 812,
        "inspector": "Piet",
        "inspection_date": "2026-12-01",
    }


class CheckpointResult(InputSchema):
    checkpoint_id = Id(required=True, allow_none=False)
    status = Text(10)
    remark = Text(1000)


class AdviceItem(InputSchema):
    description = Text(500)
    price = TextOrNumber()


class TypedCustomer(InputSchema):
    name = Text(300)
    email = Text(300)
    phone = Text(300)
    customer_number = Text(300)
    address = Text(300)


class TypedVehicle(InputSchema):
    plate = Text(20)
    brand = Text(300)
    model = Text(300)
    odometer = TextOrNumber(20)


class PassportDates(InputSchema):
    next_service = Text(DATE_LENGTH)
    apk_expiry = Text(DATE_LENGTH)
    mobility_renewal = Text(DATE_LENGTH)


class InspectionFormChanges(InputSchema):
    """PUT /inspection_form/<id> and the optional body of /save."""

    results = List(Nested(CheckpointResult))
    advice = List(Nested(AdviceItem))
    customer = Nested(TypedCustomer)
    vehicle = Nested(TypedVehicle)
    dates = Nested(PassportDates)
    send_updates = Flag()
    still_adjusting = Flag()
    inspector = Text(column_length(InspectionForm, "inspector"))

    example = {
        "results": [{"checkpoint_id": 1, "status": "ok", "remark": ""}],
        "advice": [{"description": "Remblokken voor vervangen", "price": "145,00"}],
        "send_updates": True,
    }


class PerformedWorkInput(InputSchema):
    description = Text(column_length(PerformedWork, "description"))
    done_on = Text(DATE_LENGTH)

    example = {"description": "Remblokken voor vervangen", "done_on": "2026-12-03"}


class InvitationInput(InputSchema):
    passport_id = Id()
    wanted_date = Text(DATE_LENGTH)
    note = Text(column_length(InspectionInvitation, "note"))

    example = {"passport_id": 812, "wanted_date": "2026-12-15", "note": "Graag 's ochtends"}


# --- contact proposals and invoices ----------------------------------------------------------


class Decision(InputSchema):
    decision = Text(10)

    example = {"decision": "yes"}


class InvoiceInput(InputSchema):
    invoice_number = Text(column_length(Invoice, "invoice_number"))
    invoice_date = Text(DATE_LENGTH)
    plate = Text(20)
    customer_number = Text(column_length(Invoice, "customer_number"))
    amount = TextOrNumber()
    kind = Text(20)

    example = {
        "invoice_number": "F2026-0412",
        "invoice_date": "2026-11-28",
        "plate": "12-ABC-3",
        "customer_number": "K-1042",
        "amount": "1.234,56",
        "kind": "onderhoud",
    }


def flat_errors(messages, prefix: str = "") -> dict[str, list]:
    """marshmallow's nested errors ({"advice": {0: {"price": [...]}}}) as the contract's
    flat {"advice.0.price": [...]}."""
    flat: dict[str, list] = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_errors(value, f"{name}."))
        else:
            flat[name] = list(value) if isinstance(value, list) else [value]
    return flat


class DataExportInput(InputSchema):
    """Asking for a customer's data export (issue 19): Support may ask for the person at
    every garage; a garage's ask covers its customer whatever it sends."""

    example = {"whole_person": False}

    whole_person = Flag(load_default=False)
