"""What a form shows on screen, on paper (R-IN-7) and behind the mailed link: one
version, its dates, recalls and totals."""

from __future__ import annotations

import base64

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_datetime
from admin_app.domain.errors import Conflict, NotFound
from admin_app.domain.money import euro
from admin_app.domain.plates import display_plate
from admin_app.models import InspectionForm, Passport
from admin_app.models.inspections import STATUS_LABELS
from admin_app.scope import scoped_get
from admin_app.services.inspections.access import get_form
from admin_app.services.inspections.document import FormDocument, form_document
from admin_app.services.inspections.shown_dates import dates_to_show
from admin_app.services.printing import html_to_pdf
from admin_app.services.recalls import open_recalls


def form_recalls(session: Session, form: InspectionForm) -> list:
    """Open recalls of the form's plate, seen only through one of the garage's own live
    passports (a blank form typed by hand shows none); read through recalls.open_recalls,
    as the fleet dashboard does."""
    if not form.passport_id:
        return []
    passport = scoped_get(session, Passport, form.passport_id)
    if passport is None or passport.garage_id != form.garage_id:
        return []
    return open_recalls(session, [passport.plate]).get(passport.plate, [])


def version_content(form: InspectionForm, number: int | None) -> tuple[FormDocument, int | None]:
    """The document of version ``number`` (None: the form as it stands)."""
    if number is None:
        return form_document(form), form.version or None
    for version in form.versions:
        if version.number == number:
            return FormDocument.from_json(version.content), number
    raise NotFound(_l("Not found."))


def print_context(session: Session, form: InspectionForm, number: int | None = None) -> dict:
    """What the printed form and the read-only pages show of one version."""
    content, version = version_content(form, number)
    garage = form.garage
    logo = None
    if garage.logo and garage.logo_mimetype:
        logo = f"data:{garage.logo_mimetype};base64,{base64.b64encode(garage.logo).decode()}"
    saved = next((v for v in form.versions if v.number == version), None)
    return {
        "form": form,
        "content": content,
        "version": version,
        # The PDF's "version N of …" is read in the garage: Amsterdam time.
        "saved_at": local_datetime(saved.saved_at) if saved else "",
        "plate": display_plate(content.vehicle.plate or form.plate or ""),
        "garage": garage,
        "logo": logo,
        "groups": content.groups(),
        "status_labels": {k: str(v) for k, v in STATUS_LABELS.items()},
        "dates": dates_to_show(content.dates, form.inspection_date),
        "recalls": form_recalls(session, form),
        "total": content.total_cents,
        "vat": content.vat_cents,
        "euro": euro,
        "performed_work": form.performed_work,
    }


def form_pdf(session: Session, form_id) -> tuple[InspectionForm, bytes]:
    """The latest version as a PDF; a draft is refused with a message (409)."""
    form = get_form(session, form_id)
    if form.is_draft:
        raise Conflict(_l("Save the form before printing it: a draft cannot be printed."))
    return form, html_to_pdf(print_html(session, form))


def print_html(session: Session, form: InspectionForm) -> str:
    """The page the PDF is printed from (its times in Amsterdam, as on the screens)."""
    return render_template("console/inspection_print.html", **print_context(session, form))
