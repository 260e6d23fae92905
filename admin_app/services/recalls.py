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
from sqlalchemy.orm import Query, Session, aliased

from admin_app.domain.plates import display_plate, normalize_plate
from admin_app.models import Customer, Passport, Recall, RecallDetail
from admin_app.models.passports import PassportState
from admin_app.models.register import Dataset, current_generation
from admin_app.services import vehicle_values

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


def open_recalls_of(session: Session, plate: str) -> list[OpenRecall]:
    """One car's open recalls (its profile), in reference order."""
    return open_recalls(session, [plate]).get(normalize_plate(plate), [])


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


# --- a garage's passports with an open recall (issue 18) ---------------------------------


def recalled(passport_query: Query) -> Query:
    """Only the live passports of ``passport_query`` whose car has an open recall: the
    garage's list of cars to call in. An archived passport is no longer its customer."""
    return passport_query.filter(
        Passport.state != PassportState.archived.value, has_open_recall(Passport.plate)
    )


def open_recalls_of_cars(session: Session) -> dict[str, list[OpenRecall]]:
    """The open recalls of the live cars in scope, by plate as shown: an owner's few cars
    ("Mijn voertuigen"), every one of them whatever page of his list is open."""
    plates = [plate for (plate,) in recalled(session.query(Passport.plate))]
    return {display_plate(plate): found for plate, found in open_recalls(session, plates).items()}


def recalled_count(session: Session) -> int:
    """How many passports in scope have an open recall (the garage's to-do list)."""
    return recalled(session.query(Passport)).order_by(None).count()


def open_recalls_by_passport(session: Session, passport_ids: Iterable[int]) -> dict[int, list]:
    """The open recalls of these passports (those in scope), by passport id: one list page."""
    ids = list(passport_ids)
    if not ids:
        return {}
    plates = dict(
        session.execute(select(Passport.id, Passport.plate).where(Passport.id.in_(ids)))
        .tuples()
        .all()
    )
    found = open_recalls(session, plates.values())
    return {pk: found[plate] for pk, plate in plates.items() if plate in found}


def with_each_open_recall(passport_query: Query) -> Query:
    """The passports of ``passport_query`` as plain columns, one row per open recall with
    what it is about (the list's file: a car with two recalls is two lines)."""
    owner = aliased(Customer)
    # Brand and model as they count (typed, else the register's: issue 18).
    passport_query, car_columns = vehicle_values.with_register_values(passport_query)
    return (
        passport_query.join(
            Recall,
            and_(
                Recall.plate == Passport.plate,
                Recall.status == OPEN,
                Recall.generation == current_generation(Dataset.recall_status.value),
            ),
        )
        .outerjoin(
            RecallDetail,
            and_(
                RecallDetail.generation == current_generation(Dataset.recall_details.value),
                RecallDetail.reference == Recall.reference,
            ),
        )
        .outerjoin(owner, owner.id == Passport.owner_id)
        .with_entities(
            Passport.plate,
            *car_columns,
            owner.first_name,
            owner.infix,
            owner.last_name,
            owner.email,
            owner.phone,
            Recall.reference,
            RecallDetail.defect,
            RecallDetail.remedy,
            RecallDetail.consequences,
            RecallDetail.published_on,
        )
        # After the screen's own order: a car's recalls stay together, by reference.
        .order_by(Recall.reference)
    )
