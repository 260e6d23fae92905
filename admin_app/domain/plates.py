"""Dutch licence plates (R-PP-2): normalize, validate against the 14 side-codes, display."""

from __future__ import annotations

import re

from admin_app.domain.errors import InvalidInput

# Side-codes 1–14 as letter (L) / digit (D) groups, in the RDW's order.
SIDE_CODES: tuple[tuple[str, ...], ...] = (
    ("LL", "DD", "DD"),  # 1
    ("DD", "DD", "LL"),  # 2
    ("DD", "LL", "DD"),  # 3
    ("LL", "DD", "LL"),  # 4
    ("LL", "LL", "DD"),  # 5
    ("DD", "LL", "LL"),  # 6
    ("DD", "LLL", "D"),  # 7
    ("D", "LLL", "DD"),  # 8
    ("LL", "DDD", "L"),  # 9
    ("L", "DDD", "LL"),  # 10
    ("LLL", "DD", "L"),  # 11
    ("L", "DD", "LLL"),  # 12
    ("D", "LL", "DDD"),  # 13
    ("DDD", "LL", "D"),  # 14
)

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
# Every side-code has its own letter/digit shape ("LLDDDD" is side-code 1), so a plate's
# side-code is one dictionary lookup of its shape: the importer checks 100,000 at a time.
_SHAPE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "L" * 26 + "D" * 10)
_SIDE_CODE_OF_SHAPE = {"".join(code): number for number, code in enumerate(SIDE_CODES, start=1)}


def normalize_plate(raw: str | None) -> str:
    """Upper case without dashes, spaces or dots; '' for nothing."""
    if raw is None:
        return ""
    return _NOT_ALNUM.sub("", str(raw).upper())


def plate_part(plate: str) -> str:
    """The LIKE pattern that finds a normalized part of a plate (R-PP-2): anywhere in the
    plate ("43-ZK" finds V-43-ZKJ), by the search copy's trigram index on PostgreSQL
    (migration 0029). A part shorter than a trigram cannot use that index and would read
    every plate of the platform; one or two characters match a plate's start, by the
    prefix index."""
    return f"%{plate}%" if len(plate) >= 3 else f"{plate}%"


def side_code(plate: str) -> int | None:
    """The side-code (1–14) of a normalized plate, or None when it has none."""
    return _SIDE_CODE_OF_SHAPE.get(plate.translate(_SHAPE)) if len(plate) == 6 else None


def display_plate(plate: str | None) -> str:
    """The plate with the dashes of its side-code (`12ABC3` → `12-ABC-3`)."""
    normalized = normalize_plate(plate)
    number = side_code(normalized)
    if number is None:
        return normalized
    first, second, _ = (len(group) for group in SIDE_CODES[number - 1])
    return "-".join(
        (normalized[:first], normalized[first : first + second], normalized[first + second :])
    )


def validate_plate(raw: str | None) -> str:
    """Return the normalized plate or raise InvalidInput saying why it is refused."""
    from flask_babel import lazy_gettext as _l

    plate = normalize_plate(raw)
    if not plate:
        raise InvalidInput(_l("Fill in a licence plate."), field="plate")
    if len(plate) != 6:
        raise InvalidInput(
            _l(
                "A licence plate has 6 letters and digits; '%(plate)s' has %(count)s.",
                plate=raw,
                count=len(plate),
            ),
            field="plate",
        )
    if side_code(plate) is None:
        raise InvalidInput(
            _l(
                "'%(plate)s' is not a Dutch licence plate: its letters and digits fit none of "
                "the side-codes 1–14 (such as 12-ABC-3 or AB-12-CD).",
                plate=raw,
            ),
            field="plate",
        )
    return plate
