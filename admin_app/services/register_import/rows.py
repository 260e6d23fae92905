"""A register file's rows as they are written (issue 18): RDW's text cleaned (plates,
dates, numbers, its placeholders for nothing known), once per distinct value, in the
order of WRITTEN. The file's rows and the nightly refresh's API answers are cleaned
alike (clean_records).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from operator import itemgetter
from typing import Literal

from sqlalchemy.orm import Session

from admin_app.models.base import utcnow
from admin_app.models.register import Dataset
from admin_app.services.register_import.header import OPTIONAL, REQUIRED, Header

NO_VALUE = {"", "niet geregistreerd", "n.v.t."}  # RDW's placeholders for "nothing known"
# The columns each row is written with, in this order (generation first).
WRITTEN = {
    Dataset.vehicles.value: (
        "generation",
        "plate",
        "kind",
        "brand",
        "trade_name",
        "apk_expiry",
        "first_admission",
        "registered_on",
        "colour",
        "body",
        "seats",
        "catalogue_price",
        "last_seen_on",
    ),
    Dataset.fuel.value: ("generation", "plate", "sequence", "fuel"),
    Dataset.recall_status.value: ("generation", "plate", "reference", "status", "imported_at"),
    Dataset.recall_details.value: (
        "generation",
        "reference",
        "published_on",
        "defect",
        "remedy",
        "consequences",
    ),
}
# Datasets whose row is known by plate and a second column (sequence, reference).
KEYED_BY_TWO = (Dataset.fuel.value, Dataset.recall_status.value)

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_DATES: dict[str, str | None] = {}  # raw date text -> ISO date; few distinct values


def _plate(raw: str) -> str:
    plate = raw.strip().upper()
    return plate if plate.isalnum() and plate.isascii() else _NOT_ALNUM.sub("", plate)


def _text(raw: str, length: int) -> str | None:
    value = raw.strip()
    return None if value.lower() in NO_VALUE else value[:length]


def _date(raw: str) -> str | None:
    """`20270811` (both shapes), `2027-08-11`, `11-08-2027` or the bulk's US
    `08/11/2027 12:00:00 AM` as an ISO date; nothing or no date is None."""
    found: str | None | Literal[False] = _DATES.get(raw, False)  # False: not seen yet
    if found is not False:
        return found
    value = raw.strip()
    parsed = None
    if len(value) == 8 and value.isdigit():  # the register's own: no strptime per row
        try:
            parsed = dt.date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
        except ValueError:
            parsed = None
    else:
        for pattern, written in (
            ("%Y-%m-%d", value[:10]),
            ("%d-%m-%Y", value),
            ("%m/%d/%Y", value.split(" ")[0]),
        ):
            try:
                parsed = dt.datetime.strptime(written, pattern).date().isoformat()
                break
            except ValueError:
                continue
    if len(_DATES) < 100_000:
        _DATES[raw] = parsed
    return parsed


def _number(raw: str) -> int | None:
    value = raw.strip()
    # isdigit() alone takes "²", which int() refuses; isascii() keeps to 0-9.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class Memo(dict):
    """``memo[raw]``: ``clean(raw)``, computed once per distinct value (up to a bound)."""

    LIMIT = 500_000

    def __init__(self, clean: Callable):
        super().__init__()
        self.clean = clean

    def __missing__(self, raw):
        value = self.clean(raw)
        if len(self) < self.LIMIT:
            self[raw] = value
        return value


# A plate as RDW writes it, taken as it is (the register's millions of rows mostly are).
clean_plate = re.compile(r"[A-Z0-9]{1,16}").fullmatch

# NUL is dropped: PostgreSQL refuses it in text, and one NUL byte deep in a 7 GB file
# (past the first 64 KB, which _sniff checks) stopped the whole import.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": None})


def _copy_text(value) -> str:
    """A value as PostgreSQL's COPY text format writes it (NULL is \\N)."""
    return "\\N" if value is None else str(value).translate(_COPY_ESCAPES)


def _as_is(value):
    return value


def row_cleaner(header: Header, generation: int, today: str, now: str, *, copy: bool) -> Callable:
    """A function of a file row to the row written, or None for a row without its key.

    With ``copy`` each value comes as COPY's text format has it, so a row is one join
    (csv.writer took as long as the cleaning). Values that repeat across millions of
    vehicles (brands, colours, dates, prices, fuels) are cleaned once per distinct text
    (``Memo``). Short rows are padded to the header's width plus one empty cell, where a
    column the file lacks (an optional one) points."""
    out = _copy_text if copy else _as_is
    width = max(header.at.values()) + 2
    generation_out, today_out, now_out = out(generation), out(today), out(now)

    def at(key: str) -> int:
        return header.at.get(key, width - 1)

    def padded(row: list[str]) -> list[str]:
        return row if len(row) >= width else row + [""] * (width - len(row))

    def text_memo(length: int) -> Memo:
        return Memo(lambda raw: out(_text(raw, length)))

    def plate_of(raw: str) -> str | None:
        plate = raw if clean_plate(raw) else _plate(raw)
        return plate if plate and len(plate) <= 16 else None

    dates = Memo(lambda raw: out(_date(raw)))
    numbers = Memo(lambda raw: out(_number(raw)))

    if header.dataset == Dataset.vehicles.value:
        plate_at, kind_at, brand_at, name_at = (
            at(key) for key in ("kenteken", "voertuigsoort", "merk", "handelsbenaming")
        )
        apk_at, first_at, holder_at = (
            at(key) for key in ("vervaldatum_apk", "datum_eerste_toelating", "datum_tenaamstelling")
        )
        colour_at, body_at, seats_at, price_at = (
            at(key)
            for key in ("eerste_kleur", "inrichting", "aantal_zitplaatsen", "catalogusprijs")
        )
        kinds, brands, bodies = text_memo(60), text_memo(60), text_memo(60)
        names, colours = text_memo(120), text_memo(40)

        def vehicle(row):
            if len(row) < width:
                row = padded(row)
            plate = row[plate_at]
            if not clean_plate(plate):  # inline: the plate of every row of millions
                plate = plate_of(plate)
                if plate is None:
                    return None
            return (
                generation_out,
                plate,
                kinds[row[kind_at]],
                brands[row[brand_at]],
                names[row[name_at]],
                dates[row[apk_at]],
                dates[row[first_at]],
                dates[row[holder_at]],
                colours[row[colour_at]],
                bodies[row[body_at]],
                numbers[row[seats_at]],
                numbers[row[price_at]],
                today_out,
            )

        return vehicle
    if header.dataset == Dataset.fuel.value:
        plate_at, sequence_at, fuel_at = (
            at(key) for key in ("kenteken", "brandstof_volgnummer", "brandstof_omschrijving")
        )
        fuels = Memo(lambda raw: _text(raw, 60))
        sequences = Memo(lambda raw: out(_number(raw) or 1))

        def fuel(row):
            if len(row) < width:
                row = padded(row)
            plate = plate_of(row[plate_at])
            name = fuels[row[fuel_at]]
            if plate is None or not name:
                return None
            return (generation_out, plate, sequences[row[sequence_at]], out(name))

        return fuel
    if header.dataset == Dataset.recall_status.value:
        reference_at, plate_at, code_at = (
            at(key) for key in ("referentiecode_rdw", "kenteken", "code_status")
        )

        def status(row):
            if len(row) < width:
                row = padded(row)
            plate = plate_of(row[plate_at])
            reference = row[reference_at].strip()
            code = row[code_at].strip().upper()[:1]
            if plate is None or not reference or len(reference) > 40 or not code:
                return None
            return (generation_out, plate, out(reference), out(code), now_out)

        return status
    reference_at, published_at, defect_at, remedy_at, consequences_at = (
        at(key)
        for key in (
            "referentiecode_rdw",
            "publicatiedatum_rdw",
            "omschrijving_defect",
            "beschrijving_van_het_herstel",
            "mogelijke_gevolgen",
        )
    )

    def details(row):
        if len(row) < width:
            row = padded(row)
        reference = row[reference_at].strip()
        if not reference or len(reference) > 40:
            return None
        return (
            generation_out,
            out(reference),
            dates[row[published_at]],
            out(_text(row[defect_at], 4000)),
            out(_text(row[remedy_at], 4000)),
            out(_text(row[consequences_at], 4000)),
        )

    return details


def timestamp_text(session: Session, now: dt.datetime) -> str:
    """``now`` as the dialect stores a UTC timestamp (SQLite keeps no zone)."""
    if session.get_bind().dialect.name == "sqlite":
        return now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return now.isoformat()


def clean_records(
    session: Session, dataset: str, records: list[dict], *, generation: int, today: dt.date
) -> list[tuple]:
    """Rows of RDW's API (objects keyed by the API's column names, values as text, a null
    left out) cleaned exactly as a file's rows are: tuples in ``WRITTEN[dataset]``'s
    order, a key twice counting once (the later). The nightly refresh writes them."""
    names = REQUIRED[dataset] + OPTIONAL[dataset]
    header = Header(dataset, "utf-8", ",", {name: index for index, name in enumerate(names)})
    clean = row_cleaner(
        header, generation, today.isoformat(), timestamp_text(session, utcnow()), copy=False
    )
    key = itemgetter(1, 2) if dataset in KEYED_BY_TWO else itemgetter(1)
    rows: dict = {}
    for record in records:
        # No NUL into PostgreSQL (it refuses it in text): an answer with one would stop
        # every night at the same batch.
        row = clean([str(record.get(name) or "").replace("\x00", "") for name in names])
        if row is not None:
            rows[key(row)] = row
    return list(rows.values())
