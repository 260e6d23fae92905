"""The customer's mail and his mailed link to the form (R-IN-6)."""

from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, InvalidInput, NotFound
from admin_app.domain.money import euro
from admin_app.domain.plates import display_plate
from admin_app.models import InspectionForm, Passport, Transfer
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key
from admin_app.services.inspections.access import get_form, require_own_garage
from admin_app.services.inspections.document import FormDocument, form_document
from admin_app.services.inspections.printed import version_content
from admin_app.services.mails import greeted
from admin_app.services.outbox import queue_mail
from admin_app.services.tokens import peek_token

# The customer's link to his form (R-IN-6): read as often as he likes, for 90 days.
FORM_LINK = "inspection_form"
FORM_LINK_TTL = dt.timedelta(days=90)


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
        if move.decided_at is None:  # accepted, so decided: the query reads no other
            raise ValueError(f"accepted transfer {move.id} has no decision time")
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
    content = version_content(form, number)[0]  # its number is ``number``: a saved version
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
    require_own_garage(form, actor)
    mail_form(session, form)
