"""The passport list as a file (issue 15): a customer list (R-BJ-1) a garage can upload
again. Its first columns are the customer list's, headed with names the reader knows in
Dutch and English (customer_lists.HEADERS), so an exported list uploaded unchanged plans
every row as "unchanged"; the list screen's state, fleet account and garage follow, which
the reader ignores."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Query, aliased

from admin_app.models import (
    Customer,
    FleetAccount,
    Garage,
    Passport,
    RegisteredFuel,
    RegisteredVehicle,
)
from admin_app.models.passports import STATE_LABELS
from admin_app.models.register import Dataset, current_generation
from admin_app.services.exports import DATE, TEXT, ExportColumn, ExportList
from admin_app.services.labels import CUSTOMER_LABELS, PASSPORT_LABELS
from admin_app.services.plates import display_plate
from admin_app.services.register import garage_brand, garage_model


def _rows(query: Query) -> Query:
    """The screen's passports as plain columns with their owner, fleet account and
    garage: one statement, no objects (a million passports stream in minutes, not
    hours). The scope reaches the joined tables too (scope.loader_criteria). The car's
    values are the typed ones and the register's beside them; the columns take the one
    that counts, as services/vehicle_values.py does (issue 18)."""
    owner, garage, fleet = aliased(Customer), aliased(Garage), aliased(FleetAccount)
    registered = aliased(RegisteredVehicle)
    fuel = RegisteredFuel.__table__
    fuels = (
        select(func.aggregate_strings(fuel.c.fuel, " + "))
        .where(
            fuel.c.generation == current_generation(Dataset.fuel.value),
            fuel.c.plate == Passport.plate,
        )
        .scalar_subquery()
    )
    return (
        query.join(owner, owner.id == Passport.owner_id)
        .join(garage, garage.id == Passport.garage_id)
        .outerjoin(fleet, fleet.id == Passport.fleet_account_id)
        .outerjoin(
            registered,
            and_(
                registered.plate == Passport.plate,
                registered.generation == current_generation(Dataset.vehicles.value),
            ),
        )
        .with_entities(
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
            Passport.apk_expiry,
            Passport.brand,
            Passport.model,
            Passport.fuel,
            Passport.first_registration,
            registered.apk_expiry.label("register_apk_expiry"),
            registered.brand.label("register_brand"),
            registered.trade_name.label("register_trade_name"),
            registered.first_admission.label("register_first_registration"),
            fuels.label("register_fuel"),
            Passport.state,
            fleet.name.label("fleet_account"),
            garage.name.label("garage"),
        )
    )


def _text(name: str):
    return lambda row: getattr(row, name)


def _typed_or_register(name: str):
    return lambda row: getattr(row, name) or getattr(row, f"register_{name}")


def _apk_expiry(row):
    """The later of the typed date and the register's (vehicle_values.apk_expiry_sql)."""
    known = [d for d in (row.apk_expiry, row.register_apk_expiry) if d is not None]
    return max(known) if known else None


def _brand(row):
    return row.brand or garage_brand(row.register_brand)


def _model(row):
    return row.model or garage_model(row.register_brand, row.register_trade_name)


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
        ExportColumn(PASSPORT_LABELS["apk_expiry"], DATE, _apk_expiry),
        ExportColumn(PASSPORT_LABELS["brand"], TEXT, _brand),
        ExportColumn(PASSPORT_LABELS["model"], TEXT, _model),
        ExportColumn(PASSPORT_LABELS["state"], TEXT, _text("state"), words=STATE_LABELS),
        ExportColumn(PASSPORT_LABELS["fleet_account"], TEXT, _text("fleet_account")),
        ExportColumn(PASSPORT_LABELS["garage"], TEXT, _text("garage")),
        # Issue 18, last: no customer-list columns (a list uploaded again ignores them),
        # and the columns before keep their places.
        ExportColumn(PASSPORT_LABELS["fuel"], TEXT, _typed_or_register("fuel")),
        ExportColumn(
            PASSPORT_LABELS["first_registration"], DATE, _typed_or_register("first_registration")
        ),
    ),
    rows=_rows,
)
