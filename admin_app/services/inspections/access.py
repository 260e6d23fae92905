"""One form by id within the caller's scope, and who may change it when (R-IN-5)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden, NotFound
from admin_app.models import InspectionForm
from admin_app.roles import GARAGE
from admin_app.scope import scoped_get
from admin_app.services.audit import Actor


def get_form(session: Session, form_id) -> InspectionForm:
    form = scoped_get(session, InspectionForm, form_id)
    if form is None:
        raise NotFound(_l("Not found."))
    return form


def editable(form: InspectionForm, today: dt.date) -> bool:
    """Drafts always; a saved form until the end of its inspection day, or for as long as
    its options and prices are still being adjusted (R-IN-5)."""
    return form.is_draft or form.still_adjusting or today <= form.inspection_date


def require_own_garage(form: InspectionForm, actor: Actor) -> None:
    if not (actor.has(GARAGE) and actor.garage_id == form.garage_id):
        raise Forbidden(_l("Only the garage of this form changes it."))
