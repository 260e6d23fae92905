"""Performed work (R-IN-4): noted on a saved form at any time, never dated in the future."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_today
from admin_app.domain.dates import date_field
from admin_app.domain.errors import Conflict, InvalidInput
from admin_app.models import PerformedWork
from admin_app.services.audit import Actor
from admin_app.services.inspections.access import get_form, require_own_garage


def add_performed_work(
    session: Session,
    form_id,
    *,
    description: str,
    done_on,
    actor: Actor,
    today: dt.date | None = None,
) -> PerformedWork:
    """Noted on a saved form at any time; never dated in the future."""
    form = get_form(session, form_id)
    require_own_garage(form, actor)
    if form.is_draft:
        raise Conflict(_l("Save the form first; performed work is noted on a saved form."))
    description = (description or "").strip()
    if not description:
        raise InvalidInput(_l("Describe the work."), field="description")
    if len(description) > 500:
        raise InvalidInput(_l("A description is at most 500 characters."), field="description")
    day = date_field(done_on, "done_on") if done_on else (today or local_today())
    if day > (today or local_today()):
        raise InvalidInput(_l("Performed work cannot be dated in the future."), field="done_on")
    work = PerformedWork(form_id=form.id, description=description, done_on=day, added_by=actor.name)
    session.add(work)
    session.flush()
    session.expire(form, ["performed_work"])
    return work
