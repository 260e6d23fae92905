"""Vehicle inspection forms (R-IN-1…7): find, create, fill in, save as versions, mail.

A form is a draft until its first save; each save is a numbered version holding a copy
of the content, so an earlier version opens exactly as it was. After the inspection day a
saved form only takes performed work, unless the garage marked it "options and prices
are still being adjusted".
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_datetime, local_today
from admin_app.domain.dates import date_field
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.domain.money import euro
from admin_app.domain.plates import display_plate, normalize_plate, plate_part
from admin_app.models import (
    Checkpoint,
    Customer,
    InspectionForm,
    InspectionFormVersion,
    InspectionInvitation,
    Passport,
    PerformedWork,
    Recall,
    RecallDetail,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.models.inspections import STATUS_LABELS, FormKind
from admin_app.models.register import Dataset, current_generation
from admin_app.roles import ADMIN, GARAGE
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services import vehicle_values, webhooks
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.emails import email_key
from admin_app.services.inspections.document import (
    CUSTOMER_FIELDS,
    CUSTOMER_LABELS,
    PASSPORT_DATES,
    VEHICLE_FIELDS,
    VEHICLE_LABELS,
    AdviceLine,
    CheckpointResult,
    CustomerBlock,
    FormDocument,
    PassportDates,
    VehicleBlock,
    form_document,
)
from admin_app.services.inspections.money import MAX_ADVICE_CENTS, VAT_PERCENT, parse_price, vat_in
from admin_app.services.mails import greeted
from admin_app.services.outbox import queue_mail
from admin_app.services.passports import get_passport
from admin_app.services.printing import html_to_pdf
from admin_app.services.proposals import propose_advice_followup
from admin_app.services.recalls import open_recalls
from admin_app.services.tokens import peek_token

# What the screens, the API, the mails, the jobs and the tests use of the package.
__all__ = [
    "FORM_LINK",
    "FORM_LINK_TTL",
    "MAX_ADVICE_CENTS",
    "PASSPORT_DATES",
    "VAT_PERCENT",
    "CUSTOMER_FIELDS",
    "CUSTOMER_LABELS",
    "VEHICLE_FIELDS",
    "VEHICLE_LABELS",
    "AdviceLine",
    "CheckpointResult",
    "CustomerBlock",
    "FormDocument",
    "Found",
    "PassportDates",
    "ReadableForm",
    "ShownDate",
    "VehicleBlock",
    "add_checkpoint",
    "add_months",
    "add_performed_work",
    "checklist",
    "create_draft",
    "customer_email",
    "dates_to_show",
    "describe_changes",
    "editable",
    "euro",
    "find_vehicle",
    "fleet_car_forms",
    "form_document",
    "form_from_link",
    "form_pdf",
    "form_recalls",
    "get_form",
    "import_recalls",
    "mail_again",
    "mail_form",
    "mail_summary",
    "owner_car_forms",
    "ownership_periods",
    "parse_price",
    "print_context",
    "print_html",
    "read_only_context",
    "readable_form",
    "register_invitation",
    "remove_checkpoint",
    "save_form",
    "update_form",
    "vat_in",
    "version_content",
]

DATE_WINDOW_MONTHS = 4
# The customer's link to his form (R-IN-6): read as often as he likes, for 90 days.
FORM_LINK = "inspection_form"
FORM_LINK_TTL = dt.timedelta(days=90)


# --- the dates shown on a form (R-IN-3) ----------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later; the 31st becomes the month's last day where needed."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class ShownDate:
    name: str
    label: str
    date: dt.date
    overdue: bool


def dates_to_show(dates: PassportDates, inspection_date: dt.date) -> list[ShownDate]:
    """The passport dates earlier than inspection date + 4 months; unknown ones left out,
    passed ones marked overdue."""
    limit = add_months(inspection_date, DATE_WINDOW_MONTHS)
    shown = []
    for name, label in PASSPORT_DATES.items():
        value = dates.day(name)
        if value is not None and value < limit:
            shown.append(ShownDate(name, str(label), value, value < inspection_date))
    return shown


# --- recalls (R-IN-3) -----------------------------------------------------------------------

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


# --- finding a vehicle (R-IN-1) -------------------------------------------------------------


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
    condition = Passport.plate.like(plate_part(plate)) if plate else false()
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


# --- creating and filling in a form (R-IN-2, R-IN-4) ---------------------------------------


def checklist(session: Session, garage_id: int) -> list[Checkpoint]:
    return list(
        session.scalars(
            select(Checkpoint)
            .where(or_(Checkpoint.garage_id.is_(None), Checkpoint.garage_id == garage_id))
            .order_by(Checkpoint.position, Checkpoint.id)
            .execution_options(**{ALL_TENANTS: True})
        )
    )


def add_checkpoint(session: Session, *, group: str, name: str, actor: Actor) -> Checkpoint:
    """A garage's own checkpoint, listed after the standard ones of its group (R-IN-4)."""
    if not actor.has(GARAGE) or not actor.garage_id:
        raise Forbidden(_l("Only a garage adds its own checkpoints."))
    group, name = (group or "").strip(), (name or "").strip()
    if not group or not name:
        raise InvalidInput(_l("Fill in the group and the checkpoint."), field="name")
    if len(group) > 80 or len(name) > 120:
        raise InvalidInput(_l("The group or checkpoint name is too long."), field="name")
    last = max(
        (c.position for c in checklist(session, actor.garage_id) if c.group_name == group),
        default=10_000,
    )
    checkpoint = Checkpoint(
        garage_id=actor.garage_id, group_name=group, name=name, position=last + 1
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def remove_checkpoint(session: Session, checkpoint_id, *, actor: Actor) -> None:
    """Only a garage's own checkpoints go; forms already made keep theirs."""
    checkpoint = scoped_get(session, Checkpoint, checkpoint_id)
    if (
        checkpoint is None
        or checkpoint.garage_id is None
        or checkpoint.garage_id != actor.garage_id
    ):
        raise NotFound(_l("Not found."))
    session.delete(checkpoint)
    session.flush()


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
        brand=car.brand.value or "",
        model=car.model.value or "",
        odometer=passport.odometer,
    )


def passport_dates(passport: Passport, car: vehicle_values.CarValues) -> PassportDates:
    """The dates the form shows (R-IN-3); the APK expiry the one that counts (the later of
    typed and register, issue 18), the others the passport's own."""
    counted = car.fields()
    days = {
        name: counted[name].value if name in counted else getattr(passport, name)
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
                CheckpointResult(
                    checkpoint_id=c.id, group=c.group_name, name=c.name, status=preset
                )
                for c in checkpoints
            ],
        ).to_json(),
    )
    session.add(form)
    session.flush()
    return form


def get_form(session: Session, form_id) -> InspectionForm:
    form = scoped_get(session, InspectionForm, form_id)
    if form is None:
        raise NotFound(_l("Not found."))
    return form


def editable(form: InspectionForm, today: dt.date) -> bool:
    """Drafts always; a saved form until the end of its inspection day, or for as long as
    its options and prices are still being adjusted (R-IN-5)."""
    return form.is_draft or form.still_adjusting or today <= form.inspection_date


def update_form(
    session: Session, form_id, changes: dict, *, actor: Actor, today: dt.date | None = None
) -> InspectionForm:
    """Apply edits to the form's current content (not yet a version: see save_form).

    ``changes`` may hold: results [{checkpoint_id, status, remark}], advice [{description,
    price}], customer {…} and vehicle {…} (typed by hand on a blank form), dates {…},
    send_updates, still_adjusting, inspector.
    """
    form = get_form(session, form_id)
    _require_own_garage(form, actor)
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


def _require_own_garage(form: InspectionForm, actor: Actor) -> None:
    if not (actor.has(GARAGE) and actor.garage_id == form.garage_id):
        raise Forbidden(_l("Only the garage of this form changes it."))


# --- saving: versions and mails (R-IN-5, R-IN-6) -------------------------------------------


def save_form(
    session: Session, form_id, *, actor: Actor, today: dt.date | None = None
) -> InspectionFormVersion:
    """A new numbered version with what changed (R-IN-5); what follows a save comes after
    it in this order: the passport's dates follow the form, at most one mail to the
    customer (R-IN-6), the advice proposed for a follow-up call (R-CP-3), and the
    garage's webhooks told."""
    form = get_form(session, form_id)
    _require_own_garage(form, actor)
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


def customer_email(form: InspectionForm) -> str | None:
    return form_document(form).customer.email or None


def form_from_link(session: Session, raw: str) -> tuple[InspectionForm, int]:
    """The form behind a mailed link and the newest version its recipient may read (R-IN-6):
    one addressed to him and saved while the car was his. Never a later owner's version."""
    try:
        token = peek_token(session, raw, purpose=FORM_LINK)
    except InvalidInput:
        raise NotFound(_l("Not found.")) from None
    form = session.scalars(
        select(InspectionForm)
        .where(InspectionForm.id == token.subject_id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if form is None or form.is_draft:
        raise NotFound(_l("Not found."))
    periods = ownership_periods(session, form.passport_id, token.recipient)
    readable = [
        version
        for version in form.versions
        if email_key(FormDocument.from_json(version.content).customer.email or "")
        == email_key(token.recipient)
        and (periods is None or any(start <= version.saved_at < end for start, end in periods))
    ]
    if not readable:
        raise NotFound(_l("Not found."))
    return form, readable[-1].number


FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def ownership_periods(
    session: Session, passport_id: int | None, email: str
) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """When the owner of this passport had this address: from the passport's creation or
    the transfer that brought it, to the transfer that took it away. None without passport."""
    if passport_id is None:
        return None
    passport = session.scalars(
        select(Passport).where(Passport.id == passport_id).execution_options(**{ALL_TENANTS: True})
    ).first()
    if passport is None:
        return None
    moves = session.scalars(
        select(Transfer)
        .where(
            Transfer.passport_id == passport_id,
            Transfer.kind == "owner",
            Transfer.state == "accepted",
        )
        .order_by(Transfer.decided_at, Transfer.id)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    key = email_key(email)
    if moves:
        first = moves[0].from_customer
        owner = first.email if first is not None else ""
    else:
        owner = passport.owner.email
    periods, start = [], passport.created_at
    for move in moves:
        if email_key(owner) == key:
            periods.append((start, move.decided_at))
        start, owner = move.decided_at, move.to_email
    if email_key(owner) == key:
        periods.append((start, FAR_FUTURE))
    return periods


def mail_form(session: Session, form: InspectionForm) -> None:
    """One mail: the advice items and costs, and a link to the version saved last."""
    recipient = customer_email(form)
    if not recipient:
        raise Conflict(_l("This form has no customer e-mail address."))
    if form.is_draft:
        raise Conflict(_l("Save the form first."))
    with force_locale("nl"):
        subject = str(
            _l(
                "Inspection of your car %(plate)s at %(garage)s",
                plate=display_plate(form.plate or ""),
                garage=form.garage.name,
            )
        )
    queue_mail(
        session,
        recipient=recipient,
        kind="inspection",
        subject=subject,
        params={"form_id": form.id, "version": form.version},
        garage_id=form.garage_id,
    )


def mail_summary(session: Session, form: InspectionForm, number: int, *, link: str) -> str:
    """The inspection mail's text for version ``number`` (written at send time)."""
    content, number = version_content(form, number)
    lines = [f"- {a.description}: {euro(a.price_cents)}" for a in content.advice]
    if content.advice:
        summary = str(
            _l(
                "Our advice:\n%(lines)s\n\nTotal %(total)s incl. %(vat)s VAT (21%%).",
                lines="\n".join(lines),
                total=euro(content.total_cents),
                vat=euro(content.vat_cents),
            )
        )
    else:
        summary = str(_l("We found no points for advice."))
    return greeted(
        content.customer.name,
        _l(
            "%(garage)s inspected your car %(plate)s on %(date)s (version %(version)s of the "
            "form).\n\n%(summary)s\n\nThe whole form:\n%(link)s\n",
            garage=form.garage.name,
            plate=display_plate(form.plate or ""),
            date=form.inspection_date.strftime("%d-%m-%Y"),
            version=number,
            summary=summary,
            link=link,
        ),
    )


def mail_again(session: Session, form_id, *, actor: Actor) -> None:
    """ "Mail me the data again" (R-IN-6)."""
    form = get_form(session, form_id)
    _require_own_garage(form, actor)
    mail_form(session, form)


# --- performed work (R-IN-4) ---------------------------------------------------------------


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
    _require_own_garage(form, actor)
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


# --- what a form shows ---------------------------------------------------------------------


def version_content(form: InspectionForm, number: int | None) -> tuple[FormDocument, int | None]:
    """The document of version ``number`` (None: the form as it stands)."""
    if number is None:
        return form_document(form), form.version or None
    for version in form.versions:
        if version.number == number:
            return FormDocument.from_json(version.content), number
    raise NotFound(_l("Not found."))


# --- printing (R-IN-7) ---------------------------------------------------------------------


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


# --- the forms a fleet manager or an owner reads (R-FL-5, issue 15) -----------------------


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
