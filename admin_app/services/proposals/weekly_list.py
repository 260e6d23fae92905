"""A week's list of contact proposals: the periodic ones, made for every garage by the
Monday 06:00 run (R-CP-1), and the advice follow-ups of the inspection forms (R-CP-3).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, exists, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from admin_app.db import changed_rows
from admin_app.domain.clock import AMSTERDAM
from admin_app.domain.money import euro
from admin_app.models import (
    ApkReminder,
    ContactProposal,
    Customer,
    Garage,
    Invoice,
    Passport,
    WeeklyRun,
)
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.passports import PassportState
from admin_app.scope import ALL_TENANTS
from admin_app.services import vehicle_values
from admin_app.services.bounces import is_bounced
from admin_app.services.proposals.prediction import update_next_service
from admin_app.services.proposals.weeks import (
    is_closed,
    iso_week,
    proposal_week,
    run_due_at,
    week_monday,
)

QUIET_DAYS = 8 * 7  # invoiced or invited in the last 8 weeks: not proposed


def _earliest(a, b):
    return case(
        (a.is_(None), b),
        (b.is_(None), a),
        (a < b, a),
        else_=b,
    )


def make_proposals(session: Session, week: str, now: dt.datetime) -> int:
    """The periodic proposals of ``week`` for every garage, in one INSERT … SELECT: the
    customers whose predicted visit falls in it, leaving out "never", a bounced address,
    anyone invoiced or invited in the last 8 weeks and any customer or car sent an APK
    reminder in the last 8 weeks (issue 18). Safe to repeat."""
    from admin_app.services.apk_reminders import apk_expiry_of

    monday = week_monday(week)
    today = now.astimezone(AMSTERDAM).date()
    since = today - dt.timedelta(days=QUIET_DAYS)
    registered, on_plate = vehicle_values.register_row(Passport)
    predicted = _earliest(Passport.next_service, apk_expiry_of(Passport, registered))
    other = aliased(ContactProposal)
    invoiced_car = exists().where(
        Invoice.garage_id == Passport.garage_id,
        Invoice.plate == Passport.plate,
        Invoice.invoice_date >= since,
    )
    invoice_of_customer = aliased(Invoice)
    invoiced_customer = exists().where(
        invoice_of_customer.garage_id == Passport.garage_id,
        invoice_of_customer.customer_id == Passport.owner_id,
        invoice_of_customer.invoice_date >= since,
    )
    invited = exists().where(
        other.customer_id == Passport.owner_id,
        other.invited_at >= now - dt.timedelta(days=QUIET_DAYS),
    )
    reminded = exists().where(
        or_(ApkReminder.customer_id == Passport.owner_id, ApkReminder.passport_id == Passport.id),
        ApkReminder.reminded_at >= now - dt.timedelta(days=QUIET_DAYS),
    )
    already = exists().where(
        other.garage_id == Passport.garage_id,
        other.week == week,
        other.passport_id == Passport.id,
        other.reason == "periodic",
    )
    source = (
        select(
            Passport.garage_id,
            literal(week),
            literal(monday),
            Passport.owner_id,
            Passport.id,
            literal("periodic"),
            predicted,
            literal("yes"),
            literal(False),
            literal(now, UTCDateTime),
        )
        .join(Customer, Customer.id == Passport.owner_id)
        .outerjoin(registered, on_plate)
        .where(
            Passport.state != PassportState.archived.value,
            Passport.stock_car.is_(False),
            Customer.never_contact.is_(False),
            Customer.email_bounced_at.is_(None),
            predicted.between(monday, monday + dt.timedelta(days=6)),
            ~invoiced_car,
            ~invoiced_customer,
            ~invited,
            ~reminded,
            ~already,
        )
    )
    result = session.execute(
        insert(ContactProposal.__table__)
        .from_select(
            [
                "garage_id",
                "week",
                "week_start",
                "customer_id",
                "passport_id",
                "reason",
                "predicted_date",
                "decision",
                "closed",
                "created_at",
            ],
            source,
        )
        .execution_options(**{ALL_TENANTS: True})
    )
    return changed_rows(result)


def weekly_run(session: Session, now: dt.datetime) -> int | None:
    """The Monday 06:00 run, claimed once per week by a row in weekly_run (several
    workers, restarts: a missed Monday runs when the system is back that week). The
    clock's job commits the claim with the proposals."""
    week = proposal_week(now)
    if now < run_due_at(week):
        return None
    if session.get(WeeklyRun, week) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(WeeklyRun(week=week, started_at=now))
    except IntegrityError:
        return None  # another worker claimed it
    update_next_service(session)
    made = make_proposals(session, week, now)
    run = session.get_one(WeeklyRun, week)
    run.finished_at, run.proposals = utcnow(), made
    session.flush()
    return made


def propose_advice_followup(session: Session, form, now: dt.datetime) -> ContactProposal | None:
    """The advice of a form saved in week N becomes a proposal in week N+1 (or the next
    list still open), "no" unless the garage's setting says "yes"."""
    advice = form.content.get("advice") or []
    if not advice or not form.passport_id:
        return None
    passport = session.get_one(Passport, form.passport_id)
    if is_bounced(passport.owner):
        return None  # not proposed until the address is corrected
    week = iso_week(now.astimezone(AMSTERDAM).date() + dt.timedelta(days=7))
    if is_closed(week, now):
        week = iso_week(week_monday(week) + dt.timedelta(days=7))
    text = "; ".join(f"{a['description']} ({euro(a['price_cents'])})" for a in advice)[:1000]
    proposal = session.scalars(
        select(ContactProposal).where(
            ContactProposal.garage_id == form.garage_id,
            ContactProposal.week == week,
            ContactProposal.passport_id == passport.id,
            ContactProposal.reason == "advice",
        )
    ).first()
    if proposal is None:
        garage = session.get_one(Garage, form.garage_id)
        proposal = ContactProposal(
            garage_id=form.garage_id,
            week=week,
            week_start=week_monday(week),
            customer_id=passport.owner_id,
            passport_id=passport.id,
            reason="advice",
            predicted_date=week_monday(week),
            decision="yes" if garage.advice_followup_default else "no",
        )
        session.add(proposal)
    proposal.advice = text
    session.flush()
    return proposal
