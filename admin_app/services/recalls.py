"""Open recalls per plate (R-IN-3): the one place every screen reads them from.

Today they come from the platform-wide recall import (the ``recall`` table); the vehicle
register will become their source, and then only this module changes. Callers pass plates
they were allowed to see (a garage's or a fleet's own passports): a recall is not a
tenant's row, so the scope cannot narrow it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Recall
from admin_app.services.plates import normalize_plate

OPEN = "O"  # the vehicle authority's code; P is repaired


def open_recalls(session: Session, plates: Iterable[str]) -> dict[str, list[Recall]]:
    """The open recalls of these plates, by normalized plate, in reference order; a plate
    without any is left out. One query however many plates (a dashboard page)."""
    wanted = sorted({normalize_plate(plate) for plate in plates if plate})
    if not wanted:
        return {}
    found: dict[str, list[Recall]] = {}
    for recall in session.scalars(
        select(Recall)
        .where(Recall.plate.in_(wanted), Recall.status == OPEN)
        .order_by(Recall.plate, Recall.reference)
    ):
        found.setdefault(recall.plate, []).append(recall)
    return found


def has_open_recall(plate_column):
    """SQL condition: the plate has an open recall (to filter a list by it)."""
    return (
        select(Recall.id)
        .where(Recall.plate == plate_column, Recall.status == OPEN)
        .correlate_except(Recall)
        .exists()
    )
