"""The saved forms a fleet manager or an owner reads (R-FL-5, issue 15)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import NotFound
from admin_app.models import InspectionForm, Passport
from admin_app.scope import ALL_TENANTS
from admin_app.services.inspections.mailing import ownership_periods
from admin_app.services.inspections.printed import print_context
from admin_app.services.passports import get_passport


@dataclass(frozen=True)
class ReadableForm:
    """A saved form as a fleet manager or owner may read it: ``full`` with the customer
    block, the advice and the performed work; otherwise only date, garage and results."""

    form: InspectionForm
    full: bool


def _saved_forms_of(session: Session, passport: Passport) -> list[InspectionForm]:
    # Read by name across garages (ALL_TENANTS): neither a fleet manager's nor an owner's
    # scope holds forms. The passport was read through the caller's scope just before,
    # which authorizes its forms; the caller decides how much of each it shows.
    return list(
        session.scalars(
            select(InspectionForm)
            .where(InspectionForm.passport_id == passport.id, InspectionForm.version > 0)
            .order_by(InspectionForm.inspection_date.desc(), InspectionForm.id.desc())
            .execution_options(**{ALL_TENANTS: True})
        )
    )


def fleet_car_forms(session: Session, passport_id) -> list[ReadableForm]:
    """The saved forms of one of the fleet manager's cars (NotFound outside his scope).

    A form made since the car joined the fleet (``Passport.fleet_linked_at``) is his to
    read in full; an earlier one was made for the car's previous owner, whose name,
    address and the prices offered to him are not the fleet's: date, garage and results
    only. A car linked before the link time was kept has no earlier-or-later to go by:
    all its forms count as earlier."""
    passport = get_passport(session, passport_id)
    since = passport.fleet_linked_at
    return [
        ReadableForm(form, since is not None and form.created_at >= since)
        for form in _saved_forms_of(session, passport)
    ]


def owner_car_forms(session: Session, passport_id, *, email: str) -> list[ReadableForm]:
    """The saved forms an owner reads under "Mijn voertuigen": those made while the car
    was his — the periods R-IN-6's mailed link uses (the transfers that brought and took
    it, by his address) — in full. Forms of earlier or later owners are not listed."""
    passport = get_passport(session, passport_id)
    periods = ownership_periods(session, passport.id, email) or []
    return [
        ReadableForm(form, True)
        for form in _saved_forms_of(session, passport)
        if any(start <= form.created_at < end for start, end in periods)
    ]


def readable_form(forms: list[ReadableForm], form_id) -> ReadableForm:
    """One of the forms listed for the caller, else NotFound (an id from another car)."""
    for readable in forms:
        if str(readable.form.id) == str(form_id):
            return readable
    raise NotFound(_l("Not found."))


# What a form made before the car came to its reader shows: when, where, and the checkpoint
# results — no customer block, advice prices, performed work or inspector.
BEFORE_READER_KEYS = ("form", "version", "saved_at", "plate", "garage", "groups", "status_labels")


def read_only_context(session: Session, readable: ReadableForm) -> dict:
    """The read-only page's context of a listed form, cut down unless ``full``."""
    context = print_context(session, readable.form)
    if not readable.full:
        context = {key: context[key] for key in BEFORE_READER_KEYS}
    context["full"] = readable.full
    return context
