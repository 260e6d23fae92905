"""The invitation a "yes" becomes (R-CP-2): its mail, written at send time with its
opt-out link, and the opt-out that link does.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import InvalidInput, NotFound
from admin_app.domain.plates import display_plate
from admin_app.models import ContactProposal, Customer, Garage
from admin_app.scope import ALL_TENANTS
from admin_app.services.emails import email_key
from admin_app.services.mails import greeted
from admin_app.services.outbox import queue_mail
from admin_app.services.tokens import peek_token

# The invitation's opt-out link acts on its customer row for a year (R-CP-2).
OPT_OUT = "opt_out"
OPT_OUT_TTL = dt.timedelta(days=365)


def queue_invitation(session: Session, proposal: ContactProposal) -> None:
    """The invitation's mail in the outbox, with a Dutch subject; the text, with its
    opt-out link, is written when it is sent (``invitation_text``)."""
    plate = display_plate(proposal.passport.plate)
    with force_locale("nl"):
        subject = str(_l("Time for a visit with your %(plate)s?", plate=plate))
    queue_mail(
        session,
        recipient=proposal.customer.email,
        kind="invitation",
        subject=subject,
        params={"proposal_id": proposal.id},
        garage_id=proposal.garage_id,
    )


def invitation_text(session: Session, proposal: ContactProposal, *, link: str) -> str:
    """The invitation's text with its opt-out link (written at send time)."""
    garage = session.get_one(Garage, proposal.garage_id)
    plate = display_plate(proposal.passport.plate)
    if proposal.reason == "advice":
        why = str(_l("At the inspection we advised: %(advice)s.", advice=proposal.advice))
    else:
        why = str(
            _l(
                "By our records your car is due around %(date)s.",
                date=proposal.predicted_date.strftime("%d-%m-%Y"),
            )
        )
    return greeted(
        proposal.customer.full_name,
        _l(
            "%(why)s We gladly welcome your %(plate)s at %(garage)s; "
            "call us at %(phone)s to make an appointment.\n\n"
            "No more invitations from us? Click here:\n%(link)s\n",
            why=why,
            plate=plate,
            garage=garage.name,
            phone=garage.phone or "",
            link=link,
        ),
    )


def customer_for_opt_out(session: Session, raw: str) -> Customer:
    """The customer row an invitation's opt-out link was made for, while it is mailed at
    the same address (a year, R-CP-2). The link acts on that row only."""
    try:
        token = peek_token(session, raw, purpose=OPT_OUT)
    except InvalidInput:
        raise NotFound(_l("Not found.")) from None
    customer = session.scalars(
        select(Customer)
        .where(Customer.id == token.subject_id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if customer is None or email_key(customer.email) != email_key(token.recipient):
        raise NotFound(_l("Not found."))
    return customer


def opt_out(session: Session, raw: str) -> Customer:
    """The invitation's link: the customer is never proposed again (R-CP-2)."""
    customer = customer_for_opt_out(session, raw)
    customer.never_contact = True
    session.flush()
    return customer
