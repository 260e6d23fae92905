"""A car's brand, model, fuel, first registration and APK expiry, and where each came from
(issue 18): the one place screens, the API, proposals, reminders, calendars and exports
ask.

A passport stores only what the garage typed; the register (services/register.py) knows
the rest. A value is the typed one, or else the register's; for the APK expiry the later
of the two counts (a garage that typed last year's date must not remind a car the RDW
already saw pass its APK). Nothing from the register is written into a passport: the
register refreshes every night, a copy would go stale.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Row, and_, asc, case, desc, func, or_, select, update
from sqlalchemy.orm import Query, Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from admin_app.domain.plates import validate_plate
from admin_app.models import Passport, RegisteredFuel, RegisteredVehicle
from admin_app.models.passports import PassportState
from admin_app.models.register import Dataset, current_generation
from admin_app.services.register import (
    VehicleFacts,
    garage_brand,
    garage_model,
    vehicle_facts,
)

# The passport's fields the register can answer, as the passport names them.
FIELDS = ("brand", "model", "fuel", "first_registration", "apk_expiry")
TYPED, REGISTER = "typed", "register"


@dataclass(frozen=True)
class Value:
    """One field of one car: the value that counts, whence (TYPED, REGISTER or None when
    neither knows it), and both sides for the profile to show a difference."""

    value: str | dt.date | None
    source: str | None
    typed: str | dt.date | None
    register: str | dt.date | None

    @property
    def day(self) -> dt.date | None:
        """The value of a date field (the APK expiry, the first registration)."""
        return self.value if isinstance(self.value, dt.date) else None

    @property
    def text(self) -> str | None:
        """The value of a text field (the brand, the model, the fuel)."""
        return self.value if isinstance(self.value, str) else None

    @property
    def differs(self) -> bool:
        """Typed, and the register says otherwise (the profile shows the register's)."""
        return (
            self.typed is not None
            and self.register is not None
            and not same(self.typed, self.register)
        )


@dataclass(frozen=True)
class CarValues:
    brand: Value
    model: Value
    fuel: Value
    first_registration: Value
    apk_expiry: Value
    # The day of the newest import that held the plate; None: the register never had it.
    register_checked_on: dt.date | None

    def fields(self) -> dict[str, Value]:
        return {name: getattr(self, name) for name in FIELDS}


def same(typed, register) -> bool:
    """A typed value equal to the register's: text regardless of case, accents and outer
    spaces (`golf` is the register's `Golf`, `Skoda` its `Škoda`), dates as dates."""
    if isinstance(typed, str) and isinstance(register, str):
        return _plain(typed) == _plain(register)
    return typed == register


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def register_value(facts: VehicleFacts | None, name: str):
    return None if facts is None else getattr(facts, name)


def _value(name: str, typed, register) -> Value:
    if name == "apk_expiry" and typed is not None and register is not None:
        later = max(typed, register)
        return Value(later, TYPED if later == typed else REGISTER, typed, register)
    if typed is not None:
        return Value(typed, TYPED, typed, register)
    if register is not None:
        return Value(register, REGISTER, typed, register)
    return Value(None, None, None, None)


def car_values(passport: Passport | Row, facts: VehicleFacts | None) -> CarValues:
    """The values of one passport, given the register's facts of its plate (or None)."""
    return CarValues(
        **{
            name: _value(name, getattr(passport, name), register_value(facts, name))
            for name in FIELDS
        },
        register_checked_on=facts.last_seen_on if facts else None,
    )


def typed_columns() -> list:
    """The passport's own columns of FIELDS: with its id and plate, a row of them is all
    ``values_of`` reads."""
    return [getattr(Passport, name) for name in FIELDS]


def values_of(session: Session, passports: Iterable[Passport | Row]) -> dict[int, CarValues]:
    """Each passport's values by passport id: one register query for all of them (a list,
    an export, an API page). Passports, or rows of id, plate and ``typed_columns()``."""
    passports = list(passports)
    facts = vehicle_facts(session, (p.plate for p in passports))
    return {p.id: car_values(p, facts.get(p.plate)) for p in passports}


def values_of_one(session: Session, passport: Passport) -> CarValues:
    return values_of(session, [passport])[passport.id]


# --- a streamed file: the register's values in the file's own statement -------------------


def with_register_values(query: Query, passport=Passport) -> tuple[Query, list]:
    """``query`` outer-joined to the register's row of ``passport``'s plate, and the
    labelled columns ``values_of_row`` reads beside the passport's typed ones. For a file
    of a million passports streamed as plain rows: one statement, not ``values_of`` per
    chunk of objects."""
    registered = aliased(RegisteredVehicle)
    fuel = RegisteredFuel.__table__
    fuels = (
        select(func.aggregate_strings(fuel.c.fuel, " + "))
        .where(
            fuel.c.generation == current_generation(Dataset.fuel.value),
            fuel.c.plate == passport.plate,
        )
        .scalar_subquery()
    )
    joined = query.outerjoin(
        registered,
        and_(
            registered.plate == passport.plate,
            registered.generation == current_generation(Dataset.vehicles.value),
        ),
    )
    return joined, [
        *(getattr(passport, name).label(name) for name in FIELDS),
        registered.brand.label("register_brand"),
        registered.trade_name.label("register_trade_name"),
        registered.apk_expiry.label("register_apk_expiry"),
        registered.first_admission.label("register_first_registration"),
        registered.last_seen_on.label("register_checked_on"),
        fuels.label("register_fuel"),
    ]


@lru_cache(maxsize=16)
def values_of_row(row) -> CarValues:
    """A row of ``with_register_values``'s columns as its car's values, by the rule
    ``values_of`` follows (typed, else the register's; the later APK date). Cached: a
    file's columns ask the same row in turn."""
    facts = None
    if row.register_checked_on is not None:
        facts = VehicleFacts(
            plate=None,
            brand=garage_brand(row.register_brand),
            model=garage_model(row.register_brand, row.register_trade_name),
            fuel=row.register_fuel,
            apk_expiry=row.register_apk_expiry,
            first_registration=row.register_first_registration,
            last_seen_on=row.register_checked_on,
        )
    return car_values(row, facts)


def counted_in_row(name: str) -> Callable:
    """A file's column: the value of field ``name`` that counts in a row of
    ``with_register_values``'s columns."""
    return lambda row: getattr(values_of_row(row), name).value


def untyped_if_registered(session: Session, plate: str, typed: dict) -> dict:
    """``typed`` (field → value) with each value equal to the register's left out (None):
    what equals the register is the register's, so it follows the register from then on
    and the profile marks it as such."""
    facts = vehicle_facts(session, [plate]).get(plate)
    if facts is None:
        return typed
    return {
        name: (
            None
            if value is not None and name in FIELDS and same(value, register_value(facts, name))
            else value
        )
        for name, value in typed.items()
    }


def _registered(column, passport) -> ColumnElement:
    """SQL: ``column`` of the register's row of ``passport``'s plate (NULL: unknown)."""
    return (
        select(column)
        .where(
            RegisteredVehicle.generation == current_generation(Dataset.vehicles.value),
            RegisteredVehicle.plate == passport.plate,
        )
        .scalar_subquery()
    )


def register_row(passport=Passport):
    """An alias of the register's vehicles and the ON clause of the row of ``passport``'s
    plate in the generation readers see: for a statement over many passports (the weekly
    proposals, the daily reminders), outer-joined once. The lookup per row that
    ``apk_expiry_sql`` makes alone took the proposals of a million cars from 2 s to 17 s."""
    registered = aliased(RegisteredVehicle)
    return registered, and_(
        registered.plate == passport.plate,
        registered.generation == current_generation(Dataset.vehicles.value),
    )


def apk_expiry_sql(passport=Passport, registered=None) -> ColumnElement:
    """The APK expiry that counts, as SQL over ``passport`` (the entity or an alias): the
    later of the typed date and the register's, either when the other is unknown. For
    queries that filter or sort on it (reminders, proposals); CASE rather than GREATEST,
    which SQLite lacks. ``registered``: the statement's ``register_row`` alias, else a
    lookup per row."""
    if registered is None:
        registered = _registered(RegisteredVehicle.apk_expiry, passport)
    else:
        registered = registered.apk_expiry
    typed = passport.apk_expiry
    return case(
        (
            registered.is_not(None) & (typed.is_(None) | (registered > typed)),
            registered,
        ),
        else_=typed,
    )


def brand_sql(passport=Passport, registered=None) -> ColumnElement:
    """The brand that counts, lower-cased, as SQL: to sort a list by. Typed, else the
    register's (RDW writes `VOLKSWAGEN`; lower case sorts it among the typed `Volkswagen`;
    only the accents BRAND_SPELLING adds, `Škoda`, sort otherwise than on screen).
    ``registered`` as for ``apk_expiry_sql``."""
    brand = (
        _registered(RegisteredVehicle.brand, passport) if registered is None else registered.brand
    )
    return func.lower(func.coalesce(passport.brand, brand))


def model_sql(passport=Passport, registered=None) -> ColumnElement:
    """The model that counts, lower-cased, as SQL: typed, else the register's trade name
    without the brand it often repeats (`TOYOTA YARIS` sorts as `yaris`, as
    register.garage_model shows it). ``registered`` as for ``apk_expiry_sql``."""
    if registered is None:
        brand = _registered(RegisteredVehicle.brand, passport)
        trade_name = _registered(RegisteredVehicle.trade_name, passport)
    else:
        brand, trade_name = registered.brand, registered.trade_name
    without_brand = case(
        (
            func.upper(trade_name).like(func.upper(brand).concat(" %")),
            func.substr(trade_name, func.length(brand) + 2),
        ),
        else_=trade_name,
    )
    return func.lower(func.coalesce(passport.model, without_brand))


# The passport columns a list or the API sorts by as they count, not as typed.
ORDERED_AS_COUNTED = {"apk_expiry": apk_expiry_sql, "brand": brand_sql, "model": model_sql}


class OrderedAsCounted:
    """A Flask-AppBuilder datamodel of passports (mixed in before SQLAInterface) that
    sorts by brand, model and APK expiry as they count, on the screens' lists and the
    API alike: sorted by the typed column, every car nobody typed a brand for came first.
    The passport's id breaks ties, so pages do not overlap."""

    def apply_order_by(self, query, order_column, order_direction, *args, **kwargs):
        counted = ORDERED_AS_COUNTED.get(order_column) if self.obj is Passport else None
        if counted is None:
            return super().apply_order_by(query, order_column, order_direction, *args, **kwargs)
        direction = asc if order_direction == "asc" else desc
        # Joined once: sorting Support's million passports looked the register up per row.
        registered, on_plate = register_row(Passport)
        query = query.outerjoin(registered, on_plate)
        return query.order_by(direction(counted(Passport, registered)), direction(Passport.id))


def register_fill(session: Session, raw_plate: str) -> dict | None:
    """What the new-passport form fills in for a typed plate before saving (issue 18):
    the register's five values, dates as a person types them (dd-mm-yyyy); None when the
    register does not know the plate. InvalidInput for what is no Dutch plate."""
    plate = validate_plate(raw_plate)
    facts = vehicle_facts(session, [plate]).get(plate)
    if facts is None:
        return None
    typed_date = "%d-%m-%Y"
    return {
        "brand": facts.brand or "",
        "model": facts.model or "",
        "fuel": facts.fuel or "",
        "first_registration": (
            facts.first_registration.strftime(typed_date) if facts.first_registration else ""
        ),
        "apk_expiry": facts.apk_expiry.strftime(typed_date) if facts.apk_expiry else "",
    }


def register_fills_of_rows(session: Session, rows) -> dict[int, list[str]]:
    """Per customer-list row (BatchRow, by id): the fields the register will answer for
    the passport it makes or updates, because the row leaves them empty and the register
    knows them (fuel and first registration are no list columns: always the register's).
    A refused row makes nothing: no entry. One register query for the page's rows."""
    rows = [row for row in rows if (row.outcome or row.plan) != "refused"]
    facts = vehicle_facts(session, (row.plate for row in rows))
    # A row that updates a live passport keeps what the garage typed there before.
    live = {
        passport.plate: passport
        for passport in session.scalars(
            select(Passport).where(
                Passport.plate.in_([row.plate for row in rows if row.plate in facts]),
                Passport.state != PassportState.archived.value,
            )
        )
    }
    fills = {}
    for row in rows:
        known = facts.get(row.plate)
        if known is None:
            continue
        fills[row.id] = [
            name
            for name in FIELDS
            if register_value(known, name) is not None
            and getattr(row, name, None) in (None, "")
            and getattr(live.get(row.plate), name, None) is None
        ]
    return fills


def brand_and_model_of(car: CarValues) -> str:
    """ "Volkswagen Golf": brand and model as they count; "" when neither is known."""
    return " ".join(str(v) for v in (car.brand.value, car.model.value) if v)


def brand_and_model(session: Session, passport: Passport) -> str:
    """ "Volkswagen Golf": the car's brand and model as they count, for a mail or a
    calendar; "" when neither is known."""
    return brand_and_model_of(values_of_one(session, passport))


def car_words_of(passport: Passport, car: CarValues) -> str:
    """A car in a mail, a calendar or on a page: its plate as the console shows it, with
    brand and model as they count if known: "7-ZTK-17 (Volkswagen Golf)". With the
    values already read (a list, a feed: one query for all its cars)."""
    known = brand_and_model_of(car)
    return f"{passport.plate_display} ({known})" if known else passport.plate_display


def car_words(session: Session, passport: Passport) -> str:
    """``car_words_of`` for one passport."""
    return car_words_of(passport, values_of_one(session, passport))


# The customer list's car columns (R-BJ-1); fuel and first registration are none of them.
LIST_FIELDS = ("brand", "model", "apk_expiry")


def leave_out_registered(session: Session, table, job_id: int) -> int:
    """A staged customer list's car values equal to the register's, emptied: they are
    the register's, not typed (so an exported list uploaded again changes nothing). Run
    after staging, before planning; reads only rows whose plate the register holds.
    Returns how many rows changed."""
    vehicle = RegisteredVehicle.__table__
    statement = (
        select(table.c.id, table.c.plate, *(table.c[name] for name in LIST_FIELDS))
        .join(
            vehicle,
            (vehicle.c.plate == table.c.plate)
            & (vehicle.c.generation == current_generation(Dataset.vehicles.value)),
        )
        .where(
            table.c.batch_job_id == job_id,
            table.c.valid.is_(True),
            or_(*(table.c[name].is_not(None) for name in LIST_FIELDS)),
        )
        .order_by(table.c.id)
    )
    changed, last_id = 0, 0
    # A thousand rows at a time, by id: a long list never sits in memory whole.
    while piece := session.execute(statement.where(table.c.id > last_id).limit(1000)).all():
        last_id = piece[-1].id
        facts = vehicle_facts(session, (row.plate for row in piece))
        emptied: dict[str, list[int]] = {name: [] for name in LIST_FIELDS}
        for row in piece:
            known = facts.get(row.plate)
            for name in LIST_FIELDS:
                typed = getattr(row, name)
                if typed is not None and same(typed, register_value(known, name)):
                    emptied[name].append(row.id)
        for name, ids in emptied.items():
            if ids:
                session.execute(update(table).where(table.c.id.in_(ids)).values({name: None}))
        changed += len({row_id for ids in emptied.values() for row_id in ids})
    return changed
