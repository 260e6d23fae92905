"""Deciding on a week's proposals, and closing the week (R-CP-2): the garage says yes, no
or never until the Sunday 15:00 deadline; then the "yes" invitations are queued.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.domain.plates import display_plate
from admin_app.models import ContactProposal
from admin_app.roles import GARAGE
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import Actor
from admin_app.services.bounces import is_bounced
from admin_app.services.proposals.invitations import queue_invitation
from admin_app.services.proposals.weeks import is_closed


def _proposals_in_scope(session: Session, proposal_ids: list) -> list[ContactProposal]:
    """The proposals in one query; NotFound when any of them is outside the caller's scope."""
    try:
        wanted = {int(pid) for pid in proposal_ids}
    except (TypeError, ValueError):
        raise NotFound(_l("Not found.")) from None
    found = session.scalars(select(ContactProposal).where(ContactProposal.id.in_(wanted))).all()
    if len(found) != len(wanted):
        raise NotFound(_l("Not found."))
    return list(found)


def decide(
    session: Session, proposal_ids: list, decision: str, *, actor: Actor, now: dt.datetime
) -> list[ContactProposal]:
    """Yes, no or never for one or many proposals; refused once their week has closed."""
    proposals = _proposals_in_scope(session, proposal_ids)  # 404 before 422
    if decision not in ("yes", "no", "never"):
        raise InvalidInput(_l("Choose yes, no or never."), field="decision")
    for proposal in proposals:
        if not (actor.has(GARAGE) and actor.garage_id == proposal.garage_id):
            raise Forbidden(_l("Only the garage decides on its proposals."))
        if proposal.closed or is_closed(proposal.week, now):
            raise Conflict(
                _l(
                    "Week %(week)s closed on Sunday at 15:00; its proposals can no longer "
                    "be changed.",
                    week=proposal.week,
                )
            )
        if decision == "yes" and is_bounced(proposal.customer):
            raise Conflict(
                _l(
                    "The e-mail address for %(plate)s was refused by the mail server: "
                    "correct it under Incorrect e-mails first.",
                    plate=display_plate(proposal.passport.plate),
                ),
                field="decision",
            )
        proposal.decision = decision
        if decision == "never":
            proposal.customer.never_contact = True
    session.flush()
    return proposals


def close_due_weeks(session: Session, now: dt.datetime) -> int:
    """Close every week whose deadline passed and send its "yes" invitations (each with
    an opt-out link) through the outbox. Returns the number of invitations; the clock's
    job commits them with the closing."""
    weeks = session.scalars(
        select(ContactProposal.week)
        .where(ContactProposal.closed.is_(False))
        .distinct()
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    sent = 0
    for week in (w for w in weeks if is_closed(w, now)):
        proposals = session.scalars(
            select(ContactProposal)
            .where(
                ContactProposal.week == week,
                ContactProposal.closed.is_(False),
                ContactProposal.decision == "yes",
            )
            .order_by(ContactProposal.id)
            .execution_options(**{ALL_TENANTS: True})
        ).all()
        invited_customers: set[int] = set()
        for proposal in proposals:
            customer = proposal.customer
            if customer.never_contact or proposal.customer_id in invited_customers:
                continue
            if is_bounced(customer):
                continue  # bounced after it was decided: withdrawn, not mailed
            queue_invitation(session, proposal)
            invited_customers.add(proposal.customer_id)
            proposal.invited_at = now
            sent += 1
        session.execute(
            update(ContactProposal)
            .where(ContactProposal.week == week, ContactProposal.closed.is_(False))
            .values(closed=True)
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )
    session.flush()
    return sent
