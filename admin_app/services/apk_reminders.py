"""APK reminders (issue 18): owners mailed before their car's APK expires, fleet managers
a weekly digest, and what the reminders bring in (R-CP-4).

Every morning (RUN_HOUR Amsterdam, claimed once per day) the worker's clock:
- mails each owner whose car's APK expires within his garage's N weeks (garage setting,
  default 6), once per expiry date: a new expiry date is reminded again;
- mails each fleet manager, once per ISO week, the list of his cars due in the next 8
  weeks.
Left out: garages that have reminders off; stock cars and archived passports; cars due
before the garage's ``apk_reminders_from`` (switching on does not mail the cars due
within 5 weeks); a "never contact" or bounced address; a customer invited (a proposal
decided yes) or invoiced, or a car invoiced, in the last 8 weeks. A reminder in turn
keeps the customer out of the contact proposals for 8 weeks (services/proposals).
Everything runs over all garages at once: the clock is the system's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Date, and_, case, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from admin_app.domain.clock import AMSTERDAM, local_date, local_today
from admin_app.domain.errors import InvalidInput, NotFound
from admin_app.domain.plates import display_plate
from admin_app.models import (
    ApkDigest,
    ApkReminder,
    ApkReminderRun,
    ContactProposal,
    Customer,
    FleetAccount,
    Garage,
    Invoice,
    OutboxMessage,
    Passport,
)
from admin_app.models.base import utcnow
from admin_app.models.outbox import OutboxState
from admin_app.models.passports import PassportState
from admin_app.scope import ALL_TENANTS
from admin_app.services import vehicle_values
from admin_app.services.bulk import add_days
from admin_app.services.emails import email_key
from admin_app.services.outbox import queue_mail
from admin_app.services.tokens import peek_token

RUN_HOUR = 7  # the reminders go out in the morning, Amsterdam time
QUIET_DAYS = 8 * 7  # invited or invoiced in the last 8 weeks: not reminded
DIGEST_DAYS = 8 * 7  # a fleet manager's digest lists the cars due in the next 8 weeks
CONVERSION_DAYS = 8 * 7  # a reminder "brought the car back": invoiced within 8 weeks
APK_REMINDER = "apk_reminder"
APK_DIGEST = "apk_digest"
MAX_WEEKS = 26  # the garage setting: 1 to 26 weeks before the expiry
# The digest's stop link acts on its fleet account for a year, as the opt-out (R-CP-2).
DIGEST_STOP = "apk_digest_stop"
DIGEST_STOP_TTL = dt.timedelta(days=365)


def apk_expiry_of(passport=Passport, registered=None) -> ColumnElement:
    """THE APK expiry that reminders (and contact proposals) go by, as a SQL expression
    over ``passport`` (the Passport entity or an alias): the later of the typed date and
    the vehicle register's, from services/vehicle_values.py (issue 18); ``registered``,
    the statement's own join of the register (``vehicle_values.register_row``)."""
    return vehicle_values.apk_expiry_sql(passport, registered)


# --- the daily run -------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    reminders: int
    digests: int


def daily_run(session: Session, now: dt.datetime) -> RunResult | None:
    """Today's reminders and digests, once per day after RUN_HOUR Amsterdam: claimed by a
    row in apk_reminder_run (several workers; a day missed while the system was down is
    made up when it is back the next morning, as that day's run). None when not due or
    claimed already. Flushes; the caller commits (the claim and the mails together)."""
    today = local_today(now)
    if now.astimezone(AMSTERDAM).hour < RUN_HOUR:
        return None
    if session.get(ApkReminderRun, today) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(ApkReminderRun(day=today, started_at=now))
    except IntegrityError:
        return None  # another worker claimed it
    result = RunResult(remind_owners(session, today, now), send_digests(session, today, now))
    run = session.get_one(ApkReminderRun, today)
    run.finished_at, run.reminders, run.digests = now, result.reminders, result.digests
    session.flush()
    return result


def _quiet(today: dt.date, now: dt.datetime, passport=Passport) -> list:
    """Conditions over ``passport``: its owner was not invited or invoiced in the last 8
    weeks (a proposal decided "yes" and not yet closed counts as invited: its invitation
    goes out on Sunday), nor was the car invoiced."""
    since = today - dt.timedelta(days=QUIET_DAYS)
    invoice = aliased(Invoice)
    invoiced = exists().where(
        invoice.garage_id == passport.garage_id,
        or_(invoice.plate == passport.plate, invoice.customer_id == passport.owner_id),
        invoice.invoice_date >= since,
    )
    proposal = aliased(ContactProposal)
    invited = exists().where(
        proposal.customer_id == passport.owner_id,
        or_(
            proposal.invited_at >= now - dt.timedelta(days=QUIET_DAYS),
            and_(proposal.decision == "yes", proposal.closed.is_(False)),
        ),
    )
    return [~invoiced, ~invited]


def _due(session: Session, today: dt.date, days, passport=Passport, registered=None) -> list:
    """Conditions over ``passport`` (joined with its Garage): reminders on, a live car
    that is not stock, its APK expiring after today and within ``days`` (an integer or
    an expression), and not before the garage's first reminded expiry date."""
    expiry = apk_expiry_of(passport, registered)
    return [
        Garage.apk_reminders.is_(True),
        passport.state != PassportState.archived.value,
        passport.stock_car.is_(False),
        expiry > today,
        # A typed date, not a bound Python one, so PostgreSQL adds days to a date.
        expiry <= add_days(session, literal(today, Date), days),
        expiry >= Garage.apk_reminders_from,
    ]


def remind_owners(session: Session, today: dt.date, now: dt.datetime) -> int:
    """Mail each owner whose car is due within his garage's weeks and was not reminded of
    this expiry date yet (fleet cars go in the digest). Returns how many were mailed."""
    registered, on_plate = vehicle_values.register_row(Passport)
    expiry = apk_expiry_of(Passport, registered)
    reminded = exists().where(
        ApkReminder.passport_id == Passport.id,
        ApkReminder.apk_expiry == expiry,
        ApkReminder.digest_id.is_(None),
    )
    due = session.execute(
        select(
            Passport.id,
            Passport.plate,
            Passport.garage_id,
            Passport.owner_id,
            expiry,
            Customer.email,
        )
        .join(Garage, Garage.id == Passport.garage_id)
        .join(Customer, Customer.id == Passport.owner_id)
        .outerjoin(registered, on_plate)
        .where(
            *_due(session, today, Garage.apk_reminder_weeks * 7, registered=registered),
            *_quiet(today, now),
            Passport.fleet_account_id.is_(None),
            Customer.never_contact.is_(False),
            Customer.email_bounced_at.is_(None),
            ~reminded,
        )
        .order_by(Passport.id)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    for passport_id, plate, garage_id, customer_id, expires, address in due:
        reminder = ApkReminder(
            garage_id=garage_id,
            passport_id=passport_id,
            customer_id=customer_id,
            apk_expiry=expires,
            reminded_at=now,
        )
        session.add(reminder)
        session.flush()
        with force_locale("nl"):  # customers get Dutch mail (services/mails)
            subject = str(
                _l(
                    "The APK of your %(plate)s expires on %(date)s",
                    plate=display_plate(plate),
                    date=local_date(expires),
                )
            )
        queue_mail(
            session,
            recipient=address,
            kind=APK_REMINDER,
            subject=subject,
            params={"reminder_id": reminder.id},
            garage_id=garage_id,
        )
    return len(due)


def send_digests(session: Session, today: dt.date, now: dt.datetime) -> int:
    """Each fleet manager with cars due in the next 8 weeks gets one mail per ISO week
    listing them, unless his address bounced or said "never". Returns how many."""
    from admin_app.services.proposals import iso_week

    week = iso_week(today)
    sent_this_week = exists().where(
        ApkDigest.fleet_account_id == FleetAccount.id, ApkDigest.week == week
    )
    fleets = session.scalars(
        select(FleetAccount)
        .join(Garage, Garage.id == FleetAccount.garage_id)
        .where(
            Garage.apk_reminders.is_(True),
            FleetAccount.apk_digest_stopped_at.is_(None),
            ~sent_this_week,
        )
        .order_by(FleetAccount.id)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    sent = 0
    for fleet in fleets:
        if address_refused(session, fleet.email, fleet.garage_id):
            continue
        expiry = apk_expiry_of(Passport)
        cars = session.execute(
            select(Passport.id, Passport.garage_id, expiry)
            .join(Garage, Garage.id == Passport.garage_id)
            .where(
                Passport.fleet_account_id == fleet.id,
                *_due(session, today, DIGEST_DAYS),
                *_quiet(today, now),
            )
            .order_by(expiry, Passport.id)
            .execution_options(**{ALL_TENANTS: True})
        ).all()
        if not cars:
            continue
        digest = ApkDigest(garage_id=fleet.garage_id, fleet_account_id=fleet.id, week=week)
        session.add(digest)
        session.flush()
        session.add_all(
            ApkReminder(
                garage_id=garage_id,
                passport_id=passport_id,
                digest_id=digest.id,
                apk_expiry=expires,
                reminded_at=now,
            )
            for passport_id, garage_id, expires in cars
        )
        with force_locale("nl"):
            subject = str(_l("APK in the coming 8 weeks for %(fleet)s", fleet=fleet.name))
        queue_mail(
            session,
            recipient=fleet.email,
            kind=APK_DIGEST,
            subject=subject,
            params={"digest_id": digest.id},
            garage_id=fleet.garage_id,
        )
        sent += 1
    session.flush()
    return sent


def address_refused(session: Session, address: str, garage_id: int) -> bool:
    """Whether a reminder must not go to ``address``: a customer of the garage with it
    said "never" or bounced, or the last mail sent to it was refused (a fleet account's
    address has no customer row of its own)."""
    key = email_key(address)
    marked = session.scalar(
        select(func.count())
        .select_from(Customer)
        .where(
            Customer.garage_id == garage_id,
            func.lower(Customer.email) == key,
            or_(Customer.never_contact.is_(True), Customer.email_bounced_at.is_not(None)),
        )
        .execution_options(**{ALL_TENANTS: True})
    )
    if marked:
        return True
    last_state = session.scalar(
        select(OutboxMessage.state)
        .where(
            func.lower(OutboxMessage.recipient) == key,
            OutboxMessage.state.in_((OutboxState.sent.value, OutboxState.bounced.value)),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
        .execution_options(**{ALL_TENANTS: True})
    )
    return last_state == OutboxState.bounced.value


# --- the mails (written at send time by services/mails) ------------------------------------


def contact_lines(garage: Garage) -> str:
    """The garage's contact details as a mail lists them; what is unknown is left out."""
    street = " ".join(p for p in (garage.street, garage.house_number) if p)
    town = " ".join(p for p in (garage.postcode, garage.city) if p)
    lines = [garage.name, street, town]
    if garage.phone:
        lines.append(str(_l("Phone: %(phone)s", phone=garage.phone)))
    lines.append(str(_l("E-mail: %(email)s", email=garage.email)))
    return "\n".join(" ".join(line.split()) for line in lines if line and line.strip())


def _car(session: Session, passport: Passport) -> str:
    name = vehicle_values.brand_and_model(session, passport)
    plate = passport.plate_display
    return f"{name} ({plate})" if name else plate


def reminder_text(session: Session, reminder: ApkReminder, *, link: str) -> str:
    """The owner's reminder: his car, its expiry date, the garage's contact details and
    the opt-out link (R-CP-2)."""
    from admin_app.services.mails import greeted

    passport = session.get_one(Passport, reminder.passport_id)
    customer = session.get_one(Customer, reminder.customer_id)
    garage = session.get_one(Garage, reminder.garage_id)
    return greeted(
        customer.full_name,
        _l(
            "The APK of your %(car)s expires on %(date)s. Without a valid APK you may not "
            "drive the car, so plan the inspection in time: we gladly do it for you.\n\n"
            "Call or mail us to make an appointment:\n%(contact)s\n\n"
            "No more reminders and invitations from us? Click here:\n%(link)s\n",
            car=_car(session, passport),
            date=local_date(reminder.apk_expiry),
            contact=contact_lines(garage),
            link=link,
        ),
    )


def digest_cars(session: Session, digest: ApkDigest) -> list[tuple[Passport, dt.date]]:
    """The digest's cars that are still in the fleet and live, soonest first."""
    rows = session.execute(
        select(Passport, ApkReminder.apk_expiry)
        .join(ApkReminder, ApkReminder.passport_id == Passport.id)
        .where(
            ApkReminder.digest_id == digest.id,
            Passport.fleet_account_id == digest.fleet_account_id,
            Passport.state != PassportState.archived.value,
        )
        .order_by(ApkReminder.apk_expiry, Passport.id)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    return [(passport, expiry) for passport, expiry in rows]


def digest_text(session: Session, digest: ApkDigest, cars, *, dashboard: str, link: str) -> str:
    """The fleet manager's weekly list: each car, its driver and its APK expiry date, and
    the link that stops the list."""
    from admin_app.services.mails import greeted

    fleet = session.get_one(FleetAccount, digest.fleet_account_id)
    garage = session.get_one(Garage, digest.garage_id)
    lines = []
    for passport, expiry in cars:
        line = f"- {_car(session, passport)}: {local_date(expiry)}"
        if passport.driver is not None:
            line += str(_l(" (driver: %(name)s)", name=passport.driver.full_name))
        lines.append(line)
    return greeted(
        fleet.name,
        _l(
            "The APK of these cars of %(fleet)s expires in the coming 8 weeks:\n\n"
            "%(cars)s\n\nCall or mail us to make the appointments:\n%(contact)s\n\n"
            "Your fleet dashboard shows every car's dates:\n%(dashboard)s\n\n"
            "No more weekly APK overviews? Click here:\n%(link)s\n",
            fleet=fleet.name,
            cars="\n".join(lines),
            contact=contact_lines(garage),
            dashboard=dashboard,
            link=link,
        ),
    )


def fleet_for_digest_stop(session: Session, raw: str) -> FleetAccount:
    """The fleet account a digest's stop link was made for, while its login e-mail is the
    address the digest went to (a year). NotFound otherwise."""
    try:
        token = peek_token(session, raw, purpose=DIGEST_STOP)
    except InvalidInput:
        raise NotFound(_l("Not found.")) from None
    fleet = session.scalars(
        select(FleetAccount)
        .where(FleetAccount.id == token.subject_id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if fleet is None or email_key(fleet.email) != email_key(token.recipient):
        raise NotFound(_l("Not found."))
    return fleet


def fleet_digest_on(session: Session, actor, *, on: bool, now: dt.datetime) -> FleetAccount:
    """The fleet manager switches his weekly APK overview on or off on his dashboard: a
    stop link followed by mistake (or by a colleague) was for ever before. Audited as any
    change of the fleet account."""
    fleet = session.get(FleetAccount, actor.fleet_account_id or 0)
    if fleet is None:
        raise NotFound(_l("Not found."))
    if on:
        fleet.apk_digest_stopped_at = None
    elif fleet.apk_digest_stopped_at is None:
        fleet.apk_digest_stopped_at = now
    session.flush()
    return fleet


def stop_digest(session: Session, raw: str, now: dt.datetime) -> FleetAccount:
    """The digest's stop link: no more weekly APK overviews for this fleet account."""
    fleet = fleet_for_digest_stop(session, raw)
    if fleet.apk_digest_stopped_at is None:
        fleet.apk_digest_stopped_at = now
    session.flush()
    return fleet


# --- what reminders bring in (R-CP-4) ------------------------------------------------------


@dataclass(frozen=True)
class WeekReminders:
    week: str
    reminded: int  # cars reminded that week (each expiry date counted once)
    came_back: int  # of which invoiced at the garage within 8 weeks after
    value_cents: int  # the value of those invoices


def reminder_conversion(session: Session, *, weeks: int = 26) -> list[WeekReminders]:
    """Per week (of the caller's scope), the cars first reminded of an expiry date that
    week — by mail to the owner or in a fleet digest — how many came back (an invoice
    for the car at its garage within 8 weeks after) and the value of those invoices.

    Counted per car, then summed per day in SQL (a few hundred rows for Admin's platform
    view, not one per reminder); days become ISO weeks here, as both databases would
    spell weeks differently. Reminders are made at 07:00 Amsterdam: their UTC date is
    their Amsterdam date."""
    from admin_app.services.proposals import iso_week

    first = (
        select(
            ApkReminder.garage_id,
            ApkReminder.passport_id,
            ApkReminder.apk_expiry,
            func.min(ApkReminder.reminded_at).label("reminded_at"),
        )
        .group_by(ApkReminder.garage_id, ApkReminder.passport_id, ApkReminder.apk_expiry)
        .subquery()
    )
    day = func.date(first.c.reminded_at)
    cars = (
        select(
            day.label("day"),
            func.count(Invoice.id).label("invoices"),
            func.coalesce(func.sum(Invoice.amount_cents), 0).label("value"),
        )
        .select_from(first)
        .join(Passport, Passport.id == first.c.passport_id)
        .outerjoin(
            Invoice,
            and_(
                Invoice.garage_id == first.c.garage_id,
                Invoice.plate == Passport.plate,
                Invoice.invoice_date >= day,
                Invoice.invoice_date <= add_days(session, day, CONVERSION_DAYS),
            ),
        )
        .where(first.c.reminded_at >= utcnow() - dt.timedelta(weeks=weeks + 1))
        .group_by(first.c.garage_id, first.c.passport_id, first.c.apk_expiry, first.c.reminded_at)
        .subquery()
    )
    rows = session.execute(
        select(
            cars.c.day,
            func.count(),
            func.sum(case((cars.c.invoices > 0, 1), else_=0)),
            func.sum(cars.c.value),
        ).group_by(cars.c.day)
    ).all()
    by_week: dict[str, list[int]] = {}
    for day_value, reminded, came_back, value in rows:
        # SQLite answers date() as text, PostgreSQL as a date.
        week = iso_week(dt.date.fromisoformat(str(day_value)))
        counts = by_week.setdefault(week, [0, 0, 0])
        counts[0] += int(reminded)
        counts[1] += int(came_back or 0)
        counts[2] += int(value or 0)
    return [WeekReminders(week, *counts) for week, counts in sorted(by_week.items())[-weeks:]]
