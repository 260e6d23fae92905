"""The passport list as a file (issue 15): a customer list (R-BJ-1) a garage can upload
again. Its first columns are the customer list's, headed with names the reader knows in
Dutch and English (customer_lists.HEADERS), so an exported list uploaded unchanged plans
every row as "unchanged"; the list screen's state, fleet account and garage follow, which
the reader ignores."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Query, aliased

from admin_app.domain.plates import display_plate
from admin_app.models import Customer, FleetAccount, Garage, Passport
from admin_app.models.passports import STATE_LABELS
from admin_app.services import vehicle_values
from admin_app.services.exports import DATE, TEXT, ExportColumn, ExportList
from admin_app.services.labels import CUSTOMER_LABELS, PASSPORT_LABELS
from admin_app.services.vehicle_values import counted_in_row


def _rows(query: Query) -> Query:
    """The screen's passports as plain columns with their owner, fleet account and
    garage: one statement, no objects (a million passports stream in minutes, not
    hours). The scope reaches the joined tables too (scope.loader_criteria). The car's
    values are read beside them by services/vehicle_values.py, which says which counts
    (issue 18)."""
    owner, garage, fleet = aliased(Customer), aliased(Garage), aliased(FleetAccount)
    query, car_columns = vehicle_values.with_register_values(
        query.join(owner, owner.id == Passport.owner_id)
        .join(garage, garage.id == Passport.garage_id)
        .outerjoin(fleet, fleet.id == Passport.fleet_account_id)
    )
    return query.with_entities(
        Passport.plate,
        owner.email,
        owner.last_name,
        owner.first_name,
        owner.infix,
        owner.street,
        owner.house_number,
        owner.postcode,
        owner.city,
        owner.phone,
        owner.customer_number,
        *car_columns,
        Passport.state,
        fleet.name.label("fleet_account"),
        garage.name.label("garage"),
    )


def _text(name: str):
    return lambda row: getattr(row, name)


PASSPORT_EXPORT = ExportList(
    name="passports",
    title=_l("Passports"),
    columns=(
        ExportColumn(PASSPORT_LABELS["plate"], TEXT, lambda row: display_plate(row.plate)),
        ExportColumn(CUSTOMER_LABELS["email"], TEXT, _text("email")),
        ExportColumn(CUSTOMER_LABELS["last_name"], TEXT, _text("last_name")),
        ExportColumn(CUSTOMER_LABELS["first_name"], TEXT, _text("first_name")),
        ExportColumn(CUSTOMER_LABELS["infix"], TEXT, _text("infix")),
        ExportColumn(CUSTOMER_LABELS["street"], TEXT, _text("street")),
        ExportColumn(CUSTOMER_LABELS["house_number"], TEXT, _text("house_number")),
        ExportColumn(CUSTOMER_LABELS["postcode"], TEXT, _text("postcode")),
        ExportColumn(CUSTOMER_LABELS["city"], TEXT, _text("city")),
        ExportColumn(CUSTOMER_LABELS["phone"], TEXT, _text("phone")),
        ExportColumn(CUSTOMER_LABELS["customer_number"], TEXT, _text("customer_number")),
        ExportColumn(PASSPORT_LABELS["apk_expiry"], DATE, counted_in_row("apk_expiry")),
        ExportColumn(PASSPORT_LABELS["brand"], TEXT, counted_in_row("brand")),
        ExportColumn(PASSPORT_LABELS["model"], TEXT, counted_in_row("model")),
        ExportColumn(PASSPORT_LABELS["state"], TEXT, _text("state"), words=STATE_LABELS),
        ExportColumn(PASSPORT_LABELS["fleet_account"], TEXT, _text("fleet_account")),
        ExportColumn(PASSPORT_LABELS["garage"], TEXT, _text("garage")),
        # Issue 18, last: no customer-list columns (a list uploaded again ignores them),
        # and the columns before keep their places.
        ExportColumn(PASSPORT_LABELS["fuel"], TEXT, counted_in_row("fuel")),
        ExportColumn(
            PASSPORT_LABELS["first_registration"],
            DATE,
            counted_in_row("first_registration"),
        ),
    ),
    rows=_rows,
)
