"""Changing a form's current document (R-IN-3, R-IN-4): not yet a version (see saving)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_today
from admin_app.domain.errors import Conflict, InvalidInput
from admin_app.domain.plates import normalize_plate
from admin_app.models import InspectionForm
from admin_app.models.inspections import FormKind
from admin_app.services.audit import Actor
from admin_app.services.inspections.access import editable, get_form, require_own_garage
from admin_app.services.inspections.document import form_document


def update_form(
    session: Session, form_id, changes: dict, *, actor: Actor, today: dt.date | None = None
) -> InspectionForm:
    """Apply edits to the form's current content (not yet a version: see save_form).

    ``changes`` may hold: results [{checkpoint_id, status, remark}], advice [{description,
    price}], customer {…} and vehicle {…} (typed by hand on a blank form), dates {…},
    send_updates, still_adjusting, inspector.
    """
    form = get_form(session, form_id)
    require_own_garage(form, actor)
    today = today or local_today()
    if not editable(form, today):
        raise Conflict(
            _l(
                "The inspection day is over: only performed work can be added to this form. "
                "Mark it 'options and prices are still being adjusted' to change it."
            )
        )
    content = form_document(form).with_edits(changes)
    if "inspector" in changes:
        inspector = str(changes["inspector"] or "").strip()
        if not inspector or len(inspector) > 120:
            raise InvalidInput(_l("Fill in the inspector's name."), field="inspector")
        form.inspector = inspector
    for flag in ("send_updates", "still_adjusting"):
        if flag in changes:
            setattr(form, flag, _flag(changes[flag]))
    if form.kind == FormKind.blank.value and content.vehicle.plate:
        form.plate = normalize_plate(content.vehicle.plate)
    form.content = content.to_json()
    session.flush()
    return form


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "ja", "on")
