"""A new form (R-IN-2): a draft of one of three kinds, filled from the passport or blank."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.dates import date_field
from admin_app.domain.errors import Forbidden, InvalidInput
from admin_app.models import InspectionForm, InspectionInvitation, Passport
from admin_app.models.inspections import FormKind
from admin_app.roles import GARAGE
from admin_app.services import vehicle_values
from admin_app.services.audit import Actor
from admin_app.services.inspections.checklist import checklist
from admin_app.services.inspections.document import (
    PASSPORT_DATES,
    CheckpointResult,
    CustomerBlock,
    FormDocument,
    PassportDates,
    VehicleBlock,
)
from admin_app.services.passports import get_passport


def customer_block(passport: Passport) -> CustomerBlock:
    """The form's customer block: the passport owner as he is registered today."""
    owner = passport.owner
    name = " ".join(p for p in (owner.first_name, owner.infix, owner.last_name) if p)
    address = " ".join(p for p in (owner.street, owner.house_number) if p)
    town = " ".join(p for p in (owner.postcode, owner.city) if p)
    return CustomerBlock(
        name=name,
        email=owner.email,
        phone=owner.phone or "",
        customer_number=owner.customer_number or "",
        address=", ".join(p for p in (address, town) if p),
    )


def vehicle_block(passport: Passport, car: vehicle_values.CarValues) -> VehicleBlock:
    """The form's vehicle block: brand and model as they count (typed, else the
    register's; issue 18), kept on the form as the form's own record of the car."""
    return VehicleBlock(
        plate=passport.plate,
        brand=car.brand.text or "",
        model=car.model.text or "",
        odometer=passport.odometer,
    )


def passport_dates(passport: Passport, car: vehicle_values.CarValues) -> PassportDates:
    """The dates the form shows (R-IN-3); the APK expiry the one that counts (the later of
    typed and register, issue 18), the others the passport's own."""
    counted = car.fields()
    days = {
        name: counted[name].day if name in counted else getattr(passport, name)
        for name in PASSPORT_DATES
    }
    return PassportDates(**{name: day.isoformat() if day else None for name, day in days.items()})


def create_draft(
    session: Session,
    *,
    kind: str,
    actor: Actor,
    inspector: str,
    inspection_date,
    passport_id=None,
    reopen: bool = False,
) -> InspectionForm:
    """A new draft of one of the three kinds (R-IN-2).

    With ``reopen`` (the console's "new form" buttons) the unsaved draft this person opened
    before for the same car, kind and day is opened again, so clicking twice (or going back
    and forth) does not leave a pile of empty "Concept" forms. A draft holds nothing typed
    (that is stored by its first save), so reopening it loses nothing."""
    inspector, day, passport = _draft_request(
        session,
        kind=kind,
        actor=actor,
        inspector=inspector,
        inspection_date=inspection_date,
        passport_id=passport_id,
    )
    if reopen:
        earlier = session.scalars(
            select(InspectionForm)
            .where(
                InspectionForm.garage_id == actor.garage_id,
                InspectionForm.version == 0,
                InspectionForm.kind == kind,
                InspectionForm.inspection_date == day,
                InspectionForm.created_by == actor.name,
                InspectionForm.passport_id == passport.id
                if passport is not None
                else InspectionForm.passport_id.is_(None),
            )
            .order_by(InspectionForm.id.desc())
            .limit(1)
        ).first()
        if earlier is not None:
            earlier.inspector = inspector
            return earlier
    return _new_draft(
        session, kind=kind, actor=actor, inspector=inspector, day=day, passport=passport
    )


def _draft_request(session, *, kind, actor, inspector, inspection_date, passport_id):
    """What a new draft is asked for, checked: the inspector, the day and the car."""
    if not actor.has(GARAGE) or not actor.garage_id:
        raise Forbidden(_l("Only a garage makes inspection forms."))
    if kind not in {k.value for k in FormKind}:
        raise InvalidInput(_l("Choose the kind of form."), field="kind")
    inspector = (inspector or "").strip()
    if not inspector:
        raise InvalidInput(_l("Fill in the inspector's name."), field="inspector")
    if len(inspector) > 120:
        raise InvalidInput(_l("The inspector's name is too long."), field="inspector")
    day = date_field(inspection_date, "inspection_date")
    passport = None
    if kind != FormKind.blank.value or passport_id:
        if not passport_id:
            raise InvalidInput(_l("Choose the vehicle."), field="passport_id")
        passport = get_passport(session, passport_id)
    return inspector, day, passport


def _new_draft(session, *, kind, actor, inspector, day, passport) -> InspectionForm:
    checkpoints = checklist(session, actor.garage_id)
    preset = "ok" if kind == FormKind.all_ok.value else None
    invitation = None
    if passport is not None:
        invitation = session.scalars(
            select(InspectionInvitation)
            .where(InspectionInvitation.passport_id == passport.id)
            .order_by(InspectionInvitation.registered_at.desc())
            .limit(1)
        ).first()
    filled = passport is not None and kind != FormKind.blank.value
    car = vehicle_values.values_of_one(session, passport) if filled else None
    form = InspectionForm(
        garage_id=actor.garage_id,
        passport_id=passport.id if passport else None,
        invitation_id=invitation.id if invitation else None,
        kind=kind,
        plate=passport.plate if passport else None,
        inspector=inspector,
        inspection_date=day,
        created_by=actor.name,
        content=FormDocument(
            customer=customer_block(passport) if filled else CustomerBlock(),
            vehicle=vehicle_block(passport, car) if car else VehicleBlock(),
            dates=passport_dates(passport, car) if car else PassportDates(),
            results=[
                CheckpointResult(checkpoint_id=c.id, group=c.group_name, name=c.name, status=preset)
                for c in checkpoints
            ],
        ).to_json(),
    )
    session.add(form)
    session.flush()
    return form
