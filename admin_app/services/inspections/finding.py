"""Finding a vehicle for a form, and the invitations customers registered (R-IN-1)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from admin_app.domain.dates import date_field
from admin_app.domain.errors import Forbidden, InvalidInput
from admin_app.domain.plates import normalize_plate
from admin_app.models import Customer, InspectionForm, InspectionInvitation, Passport
from admin_app.roles import ADMIN, GARAGE
from admin_app.services.audit import Actor
from admin_app.services.passports import get_passport
from admin_app.services.search_copy import passports_matching


@dataclass
class Found:
    passports: list[Passport]
    invitations: list[InspectionInvitation]
    earlier_forms: list[InspectionForm]


def find_vehicle(session: Session, query: str, *, with_invitation: bool) -> Found:
    """With an invitation: by plate among registered plates. Without: by plate or by
    customer number. A part of a plate in any notation finds it, as the counter's search
    does (R-PP-2). Earlier forms of the vehicles found are listed too."""
    query = (query or "").strip()
    if not query:
        raise InvalidInput(_l("Fill in a plate or a customer number."), field="q")
    plate = normalize_plate(query)
    condition: ColumnElement[bool] = (
        Passport.id.in_(passports_matching(plate)) if plate else false()
    )
    if not with_invitation:
        condition = or_(condition, Customer.customer_number == query)
    passports = list(
        session.scalars(
            select(Passport)
            .join(Customer, Customer.id == Passport.owner_id)
            .where(condition, Passport.state != "archived")
            .order_by(Passport.id)
            .limit(50)
        ).unique()
    )
    ids = [p.id for p in passports]
    invitations = list(
        session.scalars(
            select(InspectionInvitation)
            .where(InspectionInvitation.passport_id.in_(ids))
            .order_by(InspectionInvitation.registered_at.desc())
        )
    )
    if with_invitation:
        invited = {i.passport_id for i in invitations}
        passports = [p for p in passports if p.id in invited]
    forms = list(
        session.scalars(
            select(InspectionForm)
            .where(
                or_(InspectionForm.passport_id.in_(ids), InspectionForm.plate == plate)
                if ids
                else InspectionForm.plate == plate
            )
            .order_by(InspectionForm.inspection_date.desc(), InspectionForm.id.desc())
        )
    )
    return Found(passports, invitations, forms)


def register_invitation(
    session: Session, *, passport_id, actor: Actor, wanted_date=None, note: str | None = None
) -> InspectionInvitation:
    """A customer registered his plate for an inspection (the screen and the API)."""
    passport = get_passport(session, passport_id)
    if not actor.has(GARAGE, ADMIN):
        raise Forbidden(_l("You may not do this."))
    invitation = InspectionInvitation(
        garage_id=passport.garage_id,
        passport_id=passport.id,
        wanted_date=date_field(wanted_date, "wanted_date") if wanted_date else None,
        note=(note or "").strip()[:500] or None,
    )
    session.add(invitation)
    session.flush()
    return invitation
