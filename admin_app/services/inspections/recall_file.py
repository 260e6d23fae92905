"""Admin's platform-wide recall file (R-IN-3): upserted into the recall status and
details the register import writes too (issue 18)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden, InvalidInput
from admin_app.domain.plates import normalize_plate
from admin_app.models import Recall, RecallDetail
from admin_app.models.base import utcnow
from admin_app.models.register import Dataset, current_generation
from admin_app.roles import ADMIN
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.tables import header_aliases, match_columns, read_table

RECALL_COLUMNS = ("kenteken", "referentiecode_rdw", "code_status", "omschrijving_defect")


def import_recalls(session: Session, *, filename: str, data: bytes, actor: Actor) -> dict:
    """The platform-wide recall file (Admin): upsert by (plate, reference) into the recall
    status readers see, and the defect into the recall's details (issue 18: the register
    import writes the same tables); O open, any other code closes it. Returns counts; a
    file without the columns is refused whole."""
    if not actor.has(ADMIN):
        raise Forbidden(_l("Only an administrator imports recall data."))
    table = read_table(filename, data)
    if not table:
        raise InvalidInput(_l("The file is empty."), field="file")
    # A column twice would make which value counts a guess: refused, naming it (issue 13).
    aliases = header_aliases({name: (name,) for name in RECALL_COLUMNS})
    at = {name: i for i, name in match_columns(table[0], aliases).items()}
    _require_columns(at)
    recalls = RecallsReadersSee(session)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    now = utcnow()
    for cells in table[1:]:
        cell = {
            name: str(cells[i] or "").strip() if i < len(cells) else "" for name, i in at.items()
        }
        row = recall_row(cell)
        if row is None:
            if any(cell.values()):  # an empty line of the file is no refusal
                counts["refused"] += 1
            continue
        counts[recalls.upsert(row, now)] += 1
    session.flush()
    record_bulk(
        session,
        actor,
        "recall",
        [("import", None, {"file": (None, filename), **{k: (None, v) for k, v in counts.items()}})],
    )
    return counts


def _require_columns(at: dict[str, int]) -> None:
    """A file without every column is refused whole, naming what it lacks."""
    missing = [name for name in RECALL_COLUMNS if name not in at]
    if missing:
        raise InvalidInput(
            _l("The recall file lacks the column(s): %(columns)s.", columns=", ".join(missing)),
            field="file",
        )


@dataclass(frozen=True)
class RecallRow:
    """One line of the file, read: a plate's recall, open (O) or not (P), and its defect."""

    plate: str
    reference: str
    status: str
    defect: str | None


def recall_row(cell: dict[str, str]) -> RecallRow | None:
    """The line's recall, or None when it is none (no plate, no reference, an unknown
    status code)."""
    plate = normalize_plate(cell["kenteken"])
    status = cell["code_status"].upper()
    reference = cell["referentiecode_rdw"]
    # Longer than their columns (16, 40) is no plate or RDW reference: refused, not
    # cut short (two references alike in their first 40 characters would merge).
    too_long = len(plate) > 16 or len(reference) > 40
    if not plate or not reference or status not in ("O", "P") or too_long:
        return None
    return RecallRow(plate, reference, status, cell["omschrijving_defect"] or None)


class RecallsReadersSee:
    """The recall status and details of the register generations readers see (issue 18:
    the register import writes the same tables), by plate and reference."""

    def __init__(self, session: Session):
        self.session = session
        self.status_generation = session.scalar(
            select(current_generation(Dataset.recall_status.value))
        )
        self.details_generation = session.scalar(
            select(current_generation(Dataset.recall_details.value))
        )
        self.recalls = {
            (recall.plate, recall.reference): recall
            for recall in session.scalars(
                select(Recall).where(Recall.generation == self.status_generation)
            )
        }
        self.details = {
            detail.reference: detail
            for detail in session.scalars(
                select(RecallDetail).where(RecallDetail.generation == self.details_generation)
            )
        }

    def upsert(self, row: RecallRow, now) -> str:
        """The row written; says "created", "updated" or "unchanged". A new defect text
        counts as an update of the recall."""
        described = self._describe(row.reference, row.defect)
        recall = self.recalls.get((row.plate, row.reference))
        if recall is None:
            recall = Recall(
                generation=self.status_generation,
                plate=row.plate,
                reference=row.reference,
                status=row.status,
            )
            self.session.add(recall)
            self.recalls[(row.plate, row.reference)] = recall
            return "created"
        if recall.status != row.status or described:
            recall.status = row.status
            recall.imported_at = now
            return "updated"
        return "unchanged"

    def _describe(self, reference: str, defect: str | None) -> bool:
        """The reference's details, made when new; True when the defect text changed."""
        detail = self.details.get(reference)
        if detail is None:
            detail = RecallDetail(generation=self.details_generation, reference=reference)
            self.session.add(detail)
            self.details[reference] = detail
        if defect and detail.defect != defect:
            detail.defect = defect
            return True
        return False
