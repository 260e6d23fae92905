"""Saving a form (R-IN-5): a numbered version with what changed, and the named steps a
save sets off."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_today
from admin_app.domain.errors import Conflict
from admin_app.models import InspectionForm, InspectionFormVersion, Passport
from admin_app.models.base import utcnow
from admin_app.services import vehicle_values, webhooks
from admin_app.services.audit import Actor
from admin_app.services.inspections.access import editable, get_form, require_own_garage
from admin_app.services.inspections.document import (
    PASSPORT_DATES,
    FormDocument,
    PassportDates,
    form_document,
)
from admin_app.services.inspections.mailing import customer_email, mail_form
from admin_app.services.passports import get_passport
from admin_app.services.proposals import propose_advice_followup


def save_form(
    session: Session, form_id, *, actor: Actor, today: dt.date | None = None
) -> InspectionFormVersion:
    """A new numbered version with what changed (R-IN-5); what follows a save comes after
    it in this order: the passport's dates follow the form, at most one mail to the
    customer (R-IN-6), the advice proposed for a follow-up call (R-CP-3), and the
    garage's webhooks told."""
    form = get_form(session, form_id)
    require_own_garage(form, actor)
    today = today or local_today()
    if not editable(form, today):
        raise Conflict(
            _l("The inspection day is over: only performed work can be added to this form.")
        )
    previous = FormDocument.from_json(form.versions[-1].content) if form.versions else None
    current = form_document(form)
    version = _new_version(session, form, previous, current, actor)
    _update_passport_dates(session, form, current)
    if _customer_wants_mail(form, previous, current, today) and customer_email(form):
        _mail_the_customer(session, form, version)
    _propose_follow_up(session, form)
    session.flush()
    session.expire(form, ["versions"])
    _tell_the_webhooks(session, form)
    return version


def _new_version(
    session: Session,
    form: InspectionForm,
    previous: FormDocument | None,
    current: FormDocument,
    actor: Actor,
) -> InspectionFormVersion:
    """The next numbered version, holding the document and what changed; a save that
    changed nothing is refused."""
    changes = describe_changes(previous, current)
    if previous is not None and not changes:
        raise Conflict(_l("Nothing changed since version %(number)s.", number=form.version))
    form.version += 1
    form.saved_at = utcnow()
    version = InspectionFormVersion(
        form_id=form.id,
        number=form.version,
        saved_by=actor.name,
        changes=changes,
        content=current.to_json(),
    )
    session.add(version)
    return version


def _update_passport_dates(session: Session, form: InspectionForm, current: FormDocument) -> None:
    if form.passport_id:
        _dates_to_passport(session, get_passport(session, form.passport_id), current.dates)


def _customer_wants_mail(
    form: InspectionForm, previous: FormDocument | None, current: FormDocument, today: dt.date
) -> bool:
    """R-IN-5/6: "send updates" is on, or the form is still being adjusted after its day,
    or the advice changed."""
    advice_changed = previous is None or previous.advice != current.advice
    return bool(
        form.send_updates
        or (form.still_adjusting and today > form.inspection_date)
        or (current.advice and advice_changed)
    )


def _mail_the_customer(session: Session, form: InspectionForm, version: InspectionFormVersion):
    mail_form(session, form)
    version.mailed = True


def _propose_follow_up(session: Session, form: InspectionForm) -> None:
    """The advice becomes next week's contact proposal (R-CP-3)."""
    propose_advice_followup(session, form, utcnow())


def _tell_the_webhooks(session: Session, form: InspectionForm) -> None:
    """The garage's endpoints that chose "inspection_form.saved" (the payload is built only
    when one did)."""
    webhooks.emit(
        session,
        form.garage_id,
        "inspection_form.saved",
        lambda: webhooks.inspection_form_data(form),
    )


def _dates_to_passport(session: Session, passport: Passport, dates: PassportDates) -> None:
    """The passport's dates follow the saved form where the form changed them. The form
    shows the APK expiry that counts, often the register's (issue 18): left as shown it
    is not typed into the passport, and a date set to the register's is the register's
    (the typed one goes), so the passport keeps only what a person typed."""
    counted = vehicle_values.values_of_one(session, passport).fields()
    for name in PASSPORT_DATES:
        value = dates.day(name)
        if name not in counted:
            if value and getattr(passport, name) != value:
                setattr(passport, name, value)
        elif value and value != counted[name].value:
            registered = vehicle_values.same(value, counted[name].register)
            setattr(passport, name, None if registered else value)


def describe_changes(before: FormDocument | None, after: FormDocument) -> list[dict]:
    """What a version changed, as codes with parameters (models.inspections.change_text
    puts them into the reader's words)."""
    if before is None:
        return [{"code": "first_version"}]
    changes: list[dict] = []
    old_results = {r.checkpoint_id: r for r in before.results}
    for result in after.results:
        old = old_results.get(result.checkpoint_id)
        old_status, old_remark = (old.status, old.remark) if old else (None, None)
        if old_status != result.status:
            changes.append(
                {
                    "code": "status",
                    "params": {"checkpoint": result.name, "old": old_status, "new": result.status},
                }
            )
        elif old_remark != result.remark:
            changes.append({"code": "remark", "params": {"checkpoint": result.name}})
    if before.advice != after.advice:
        changes.append(
            {
                "code": "advice",
                "params": {"count": len(after.advice), "total_cents": after.total_cents},
            }
        )
    if before.customer != after.customer:
        changes.append({"code": "part", "params": {"part": "customer"}})
    if before.vehicle != after.vehicle:
        changes.append({"code": "part", "params": {"part": "vehicle"}})
    if before.dates != after.dates:
        changes.append({"code": "dates"})
    return changes
