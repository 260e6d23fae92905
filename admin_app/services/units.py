"""Measured values as a garage writes them, in the reader's language."""

from __future__ import annotations

from flask_babel import format_decimal


def kilometres(value: int | None) -> str:
    """An odometer reading: 168.702 km (168,702 km in English); a dash when unknown."""
    if value is None:
        return "—"
    return f"{format_decimal(value)} km"
