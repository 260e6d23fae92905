"""Admin's platform-wide recall file (R-IN-3): upserted into the recall status and
details the register import writes too (issue 18)."""

from __future__ import annotations

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

RECALL_COLUMNS = ("kenteken", "referentiecode_rdw", "code_status", "omschrijving_defect")


def import_recalls(session: Session, *, filename: str, data: bytes, actor: Actor) -> dict:
    """The platform-wide recall file (Admin): upsert by (plate, reference) into the recall
    status readers see, and the defect into the recall's details (issue 18: the register
    import writes the same tables); O open, any other code closes it. Returns counts; a
    file without the columns is refused whole."""
    # The reading of the file is moving to services/tables.py (issue 20, another part):
    # this import stays as it is until then.
    from admin_app.services.customer_lists import _key, match_columns, read_table

    if not actor.has(ADMIN):
        raise Forbidden(_l("Only an administrator imports recall data."))
    table = read_table(filename, data)
    if not table:
        raise InvalidInput(_l("The file is empty."), field="file")
    # A column twice would make which value counts a guess: refused, naming it (issue 13).
    aliases = {_key(name): name for name in RECALL_COLUMNS}
    at = {name: i for i, name in match_columns(table[0], aliases).items()}
    missing = [name for name in RECALL_COLUMNS if name not in at]
    if missing:
        raise InvalidInput(
            _l("The recall file lacks the column(s): %(columns)s.", columns=", ".join(missing)),
            field="file",
        )
    status_generation = session.scalar(select(current_generation(Dataset.recall_status.value)))
    details_generation = session.scalar(select(current_generation(Dataset.recall_details.value)))
    existing = {
        (recall.plate, recall.reference): recall
        for recall in session.scalars(select(Recall).where(Recall.generation == status_generation))
    }
    details = {
        detail.reference: detail
        for detail in session.scalars(
            select(RecallDetail).where(RecallDetail.generation == details_generation)
        )
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    now = utcnow()
    for cells in table[1:]:
        cell = {
            name: str(cells[i] or "").strip() if i < len(cells) else "" for name, i in at.items()
        }
        plate = normalize_plate(cell["kenteken"])
        status = cell["code_status"].upper()
        reference = cell["referentiecode_rdw"]
        # Longer than their columns (16, 40) is no plate or RDW reference: refused, not
        # cut short (two references alike in their first 40 characters would merge).
        too_long = len(plate) > 16 or len(reference) > 40
        if not plate or not reference or status not in ("O", "P") or too_long:
            if any(cell.values()):
                counts["refused"] += 1
            continue
        defect = cell["omschrijving_defect"] or None
        detail = details.get(reference)
        described = False
        if detail is None:
            detail = RecallDetail(generation=details_generation, reference=reference)
            session.add(detail)
            details[reference] = detail
        if defect and detail.defect != defect:
            detail.defect, described = defect, True
        recall = existing.get((plate, reference))
        if recall is None:
            recall = Recall(
                generation=status_generation, plate=plate, reference=reference, status=status
            )
            session.add(recall)
            existing[(plate, reference)] = recall
            counts["created"] += 1
        elif recall.status != status or described:
            recall.status = status
            recall.imported_at = now
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    session.flush()
    record_bulk(
        session,
        actor,
        "recall",
        [("import", None, {"file": (None, filename), **{k: (None, v) for k, v in counts.items()}})],
    )
    return counts
