"""Open recalls per plate (R-IN-3): the one place every screen reads them from.

They come from the vehicle register's recall tables (issue 18): the status per plate
(``recall``, from the register import and Admin's recall upload) with what the recall is
about (``recall_detail``), both of the generation readers see. Callers pass plates they
were allowed to see (a garage's or a fleet's own passports): a recall is not a tenant's
row, so the scope cannot narrow it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from admin_app.models import Recall, RecallDetail
from admin_app.models.register import Dataset, current_generation
from admin_app.services.plates import normalize_plate

OPEN = "O"  # the vehicle authority's code; any other (P repaired) closes the recall


@dataclass(frozen=True)
class OpenRecall:
    plate: str
    reference: str  # RDW's referentiecode
    description: str | None  # the defect
    remedy: str | None
    consequences: str | None
    published_on: dt.date | None


def _shown(plate_condition):
    """The open status rows readers see, joined with their recall's details."""
    return (
        select(
            Recall.plate,
            Recall.reference,
            RecallDetail.defect,
            RecallDetail.remedy,
            RecallDetail.consequences,
            RecallDetail.published_on,
        )
        .outerjoin(
            RecallDetail,
            and_(
                RecallDetail.generation == current_generation(Dataset.recall_details.value),
                RecallDetail.reference == Recall.reference,
            ),
        )
        .where(
            plate_condition,
            Recall.status == OPEN,
            Recall.generation == current_generation(Dataset.recall_status.value),
        )
    )


def open_recalls(session: Session, plates: Iterable[str]) -> dict[str, list[OpenRecall]]:
    """The open recalls of these plates, by normalized plate, in reference order; a plate
    without any is left out. One query however many plates (a dashboard page)."""
    wanted = sorted({normalize_plate(plate) for plate in plates if plate})
    if not wanted:
        return {}
    found: dict[str, list[OpenRecall]] = {}
    for row in session.execute(
        _shown(Recall.plate.in_(wanted)).order_by(Recall.plate, Recall.reference)
    ):
        found.setdefault(row.plate, []).append(OpenRecall(*row))
    return found


def has_open_recall(plate_column):
    """SQL condition: the plate has an open recall (to filter a list by it)."""
    return (
        select(Recall.id)
        .where(
            Recall.plate == plate_column,
            Recall.status == OPEN,
            Recall.generation == current_generation(Dataset.recall_status.value),
        )
        .correlate_except(Recall)
        .exists()
    )
