"""Measured values as a garage writes them, in the reader's language."""

from __future__ import annotations

from flask_babel import format_decimal


def kilometres(value: int | None) -> str:
    """An odometer reading: 168.702 km (168,702 km in English); a dash when unknown."""
    if value is None:
        return "—"
    return f"{format_decimal(value)} km"


def file_size(size: int | None) -> str:
    """A file's size as people read it: 812 bytes, 4,1 kB, 187,3 MB, 7,2 GB (decimal units,
    as file managers and RDW's download page give them), in the reader's language."""
    size = size or 0
    if size < 1000:
        return f"{format_decimal(size)} bytes"
    amount = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        amount /= 1000
        if amount < 1000 or unit == "TB":
            break
    return f"{format_decimal(round(amount, 1), format='#,##0.0')} {unit}"
