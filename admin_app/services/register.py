"""What the vehicle register knows of a car (issue 18): the one read every screen, the API,
proposals and reminders go through.

Values come as a garage writes them (`TOYOTA` / `TOYOTA YARIS` → Toyota, Yaris;
`SKODA` → Škoda), fuels joined (`Benzine + Elektriciteit` for a hybrid), and with the day
the register last held the plate: a plate that vanished from the files keeps its values.
Callers pass plates they may see; register rows are no tenant's (models/register.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from admin_app.domain.plates import normalize_plate
from admin_app.models import RegisteredFuel, RegisteredVehicle
from admin_app.models.register import Dataset, current_generation

# Brands a garage writes otherwise than with one capital: abbreviations, and the accents
# the register leaves out.
BRAND_SPELLING = {
    "BMW": "BMW",
    "BYD": "BYD",
    "CITROEN": "Citroën",
    "DAF": "DAF",
    "DS": "DS",
    "GMC": "GMC",
    "KTM": "KTM",
    "MG": "MG",
    "SKODA": "Škoda",
    "SSANGYONG": "SsangYong",
    "VOLKSWAGEN": "Volkswagen",
}
VEHICLE_COLUMNS = [
    RegisteredVehicle.__table__.c[name]
    for name in (
        "plate",
        "brand",
        "trade_name",
        "apk_expiry",
        "first_admission",
        "registered_on",
        "kind",
        "colour",
        "body",
        "seats",
        "catalogue_price",
        "last_seen_on",
    )
]


def _facts_statement():
    """Built once: a lookup by plate is on every passport page (≤ 1 ms), and building the
    statement took longer than running it. Plain rows, no ORM objects."""
    vehicle, fuel = RegisteredVehicle.__table__, RegisteredFuel.__table__
    return (
        select(*VEHICLE_COLUMNS, fuel.c.fuel)
        .select_from(vehicle)
        .outerjoin(
            fuel,
            and_(
                fuel.c.generation == current_generation(Dataset.fuel.value),
                fuel.c.plate == vehicle.c.plate,
            ),
        )
        .where(
            vehicle.c.generation == current_generation(Dataset.vehicles.value),
            vehicle.c.plate.in_(bindparam("plates", expanding=True)),
        )
        .order_by(vehicle.c.plate, fuel.c.sequence)
    )


_FACTS = _facts_statement()
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+|[^A-Za-zÀ-ÿ]+")


@dataclass(frozen=True)
class VehicleFacts:
    plate: str | None  # None: read beside a passport that names it (a file's row)
    last_seen_on: dt.date  # the day of the newest import that held the plate
    brand: str | None = None
    model: str | None = None
    fuel: str | None = None  # "Benzine + Elektriciteit"
    apk_expiry: dt.date | None = None
    first_registration: dt.date | None = None  # datum_eerste_toelating
    holder_since: dt.date | None = None  # datum_tenaamstelling
    kind: str | None = None
    colour: str | None = None
    body: str | None = None
    seats: int | None = None
    catalogue_price: int | None = None  # euros


def garage_brand(brand: str | None) -> str | None:
    """`TOYOTA` → Toyota, `MERCEDES-BENZ` → Mercedes-Benz, `BMW` stays, `SKODA` → Škoda."""
    if not brand:
        return None
    upper = brand.strip().upper()
    return BRAND_SPELLING.get(upper) or upper.title()


def garage_model(brand: str | None, trade_name: str | None) -> str | None:
    """The trade name without the brand the register often repeats, cased as a garage
    writes it: `TOYOTA YARIS` → Yaris, `MODEL 3` → Model 3, `3ER REIHE` → 3er Reihe,
    `V60`, `CR-V` and `ID.3` stay."""
    if not trade_name:
        return None
    name = trade_name.strip()
    prefix = (brand or "").strip().upper()
    if prefix and name.upper().startswith(prefix + " "):
        name = name[len(prefix) + 1 :].strip()
    if not name:
        return None
    return " ".join(_garage_word(word) for word in name.split())


def _garage_word(word: str) -> str:
    if any(ch.isdigit() for ch in word):
        # 3ER → 3er; V60, C3, XC60 keep their capitals (letters before the digits).
        return re.sub(r"(?<=\d)([A-Z]+)", lambda m: m.group(1).lower(), word.upper())
    # Short words are type codes (GT, GTI, CR-V); longer ones names (GOLF → Golf).
    return "".join(
        part.capitalize() if part.isalpha() and len(part) > 3 else part.upper()
        for part in _WORD.findall(word)
    )


def vehicle_facts(session: Session, plates: Iterable[str]) -> dict[str, VehicleFacts]:
    """The register's facts of these plates, by normalized plate; a plate the register
    never held is left out. One query however many plates (a list page, a fleet)."""
    wanted = sorted({normalize_plate(plate) for plate in plates if plate})
    if not wanted:
        return {}
    rows = session.execute(_FACTS, {"plates": wanted}).all()
    fuels: dict[str, list[str]] = {}
    found = {}
    for row in rows:
        found[row.plate] = row
        if row.fuel and row.fuel not in fuels.setdefault(row.plate, []):
            fuels[row.plate].append(row.fuel)
    return {
        plate: VehicleFacts(
            plate=plate,
            brand=garage_brand(row.brand),
            model=garage_model(row.brand, row.trade_name),
            fuel=" + ".join(fuels.get(plate, [])) or None,
            apk_expiry=row.apk_expiry,
            first_registration=row.first_admission,
            holder_since=row.registered_on,
            kind=row.kind,
            colour=row.colour.capitalize() if row.colour else None,
            body=row.body,
            seats=row.seats,
            catalogue_price=row.catalogue_price,
            last_seen_on=row.last_seen_on,
        )
        for plate, row in found.items()
    }
