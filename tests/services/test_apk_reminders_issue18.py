"""Issue 18, APK reminders: the worker's daily clock across days, with the mails as the
SMTP server receives them.

The clock runs in 2030, where the demo world has no dates of its own (its invoices and
invitations are years old); each test gives the cars it looks at their APK dates.
"""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from sqlalchemy import delete, select, update

from admin_app.db import unit_of_work
from admin_app.domain.clock import AMSTERDAM, local_today
from admin_app.models import (
    ApkReminder,
    AuditLog,
    ContactProposal,
    Customer,
    FleetAccount,
    Invoice,
    OutboxMessage,
    Passport,
)
from admin_app.services import apk_reminders, proposals
from admin_app.services.audit import Actor
from tests import mails as test_mails
from tests.jobs.test_outbox import _deliver, smtp  # noqa: F401  (the SMTP sink fixture)
from tests.services.test_fleets import jansen_activated

MONDAY = dt.date.fromisocalendar(2030, 10, 1)  # 4 March 2030


def at(day: dt.date, hour: int = 7, minute: int = 0) -> dt.datetime:
    """A moment of ``day`` in Amsterdam, in UTC as the clock has it."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMSTERDAM).astimezone(dt.UTC)


def run(world, day: dt.date, hour: int = 7, minute: int = 0):
    """The worker's clock on ``day``: the daily run, committed as jobs/clock commits it."""
    s = world.session
    with test_mails.APP.app_context(), unit_of_work(s, Actor.job("apk-reminders")):
        result = apk_reminders.daily_run(s, at(day, hour, minute))
    return result


@pytest.fixture()
def quiet(world):
    """No car has an APK date unless the test gives it one, and none was reminded (the
    demo's reminder history)."""
    s = world.session
    s.execute(delete(ApkReminder))
    s.execute(update(Passport).values(apk_expiry=None))
    s.commit()
    return s


def owner_car(world, index: int = 0) -> Passport:
    """A Jansen car of a customer with one car only, not in a fleet, not stock."""
    seen: dict[int, int] = {}
    cars = jansen_activated(world)
    for car in world.passports():
        seen[car.owner_id] = seen.get(car.owner_id, 0) + 1
    return [c for c in cars if seen[c.owner_id] == 1][index]


def mails(world, kind: str) -> list[OutboxMessage]:
    world.session.expire_all()
    return world.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def received(sink, address: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(envelope.content, policy=policy.default)
        for envelope in sink.messages
        if envelope.rcpt_tos[0].lower() == address.lower()
    ]


def text_of(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_issue18_owner_is_reminded_once_per_expiry_date_and_again_for_a_new_one(
    app,
    world,
    quiet,
    smtp,  # noqa: F811
):
    """Issue 18 (R-CP-2's opt-out): 6 weeks before the APK expiry the owner is mailed,
    in Dutch, with the garage's contact details, the opt-out link and List-Unsubscribe;
    the run is claimed once per day, a car is mailed once per expiry date, and a new
    expiry date gets its own reminder."""
    s = quiet
    car = owner_car(world)
    car.apk_expiry = MONDAY + dt.timedelta(weeks=6)
    s.commit()
    assert run(world, MONDAY - dt.timedelta(days=1)) == apk_reminders.RunResult(0, 0)
    assert run(world, MONDAY, 6, 59) is None  # before 07:00 Amsterdam: not due yet
    assert run(world, MONDAY) == apk_reminders.RunResult(1, 0)  # 6 weeks before
    assert len(mails(world, "apk_reminder")) == 1
    assert run(world, MONDAY, 9) is None  # claimed: once per day
    for day in range(1, 4):
        assert run(world, MONDAY + dt.timedelta(days=day)).reminders == 0
    _deliver(app, at(MONDAY + dt.timedelta(days=3), 8))
    (mail,) = received(smtp, car.owner.email)
    text = text_of(mail)
    jansen = car.garage
    assert car.plate_display in mail["Subject"] and "verloopt op" in mail["Subject"]
    expiry = car.apk_expiry.strftime("%d-%m-%Y")
    assert f"De APK van uw {car.brand} {car.model} ({car.plate_display}) verloopt op {expiry}" in (
        " ".join(text.split())
    )
    assert jansen.phone in text and jansen.email in text and jansen.city in text
    link = mail["List-Unsubscribe"].strip("<>")
    assert "/opt-out/" in link and link in text
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The owner had the test done early: the garage types the new expiry date.
    car = s.get(Passport, car.id)
    car.apk_expiry = dt.date(2031, 3, 20)
    s.commit()
    assert run(world, dt.date(2031, 2, 5)).reminders == 0  # 6 weeks and a day before
    assert run(world, dt.date(2031, 2, 6)).reminders == 1  # 6 weeks before
    assert run(world, dt.date(2031, 2, 7)).reminders == 0
    reminded = s.scalars(
        select(ApkReminder.apk_expiry).where(ApkReminder.passport_id == car.id)
    ).all()
    assert sorted(reminded) == [MONDAY + dt.timedelta(weeks=6), dt.date(2031, 3, 20)]


def test_issue18_the_weeks_are_the_garages_setting(world, quiet):
    """Issue 18: N weeks before the expiry, N a garage setting (here 3)."""
    s = quiet
    car = owner_car(world)
    car.apk_expiry = MONDAY + dt.timedelta(weeks=3)
    car.garage.apk_reminder_weeks = 3
    s.commit()
    assert run(world, MONDAY - dt.timedelta(days=1)).reminders == 0
    assert run(world, MONDAY).reminders == 1


def test_issue18_fleet_cars_go_to_the_fleet_manager_as_one_weekly_digest(
    app,
    world,
    quiet,
    smtp,  # noqa: F811
):
    """Issue 18: a fleet's cars due in the next 8 weeks are listed in one mail a week to
    the fleet manager (not to each car's owner); a car further out is not listed."""
    s = quiet
    fleet = s.get(FleetAccount, world.user("fleet-bakker").fleet_account_id)
    cars = s.scalars(
        select(Passport).where(Passport.fleet_account_id == fleet.id).order_by(Passport.id)
    ).all()
    cars[0].apk_expiry = MONDAY + dt.timedelta(days=10)
    cars[1].apk_expiry = MONDAY + dt.timedelta(weeks=8)
    cars[2].apk_expiry = MONDAY + dt.timedelta(weeks=8, days=1)  # not yet
    s.commit()
    assert run(world, MONDAY) == apk_reminders.RunResult(0, 1)
    for day in range(1, 7):  # the rest of the week: no second digest
        assert run(world, MONDAY + dt.timedelta(days=day)).digests == 0
    assert run(world, MONDAY + dt.timedelta(days=7)).digests == 1  # the next Monday
    assert not mails(world, "apk_reminder")
    _deliver(app, at(MONDAY + dt.timedelta(days=7), 8))
    first, second = received(smtp, fleet.email)
    text = " ".join(text_of(first).split())
    assert cars[0].plate_display in text and cars[1].plate_display in text
    assert cars[2].plate_display not in text
    assert text.index(cars[0].plate_display) < text.index(cars[1].plate_display)  # soonest first
    assert fleet.name in first["Subject"] and "/my-fleet/" in text
    # A week later the third car is within 8 weeks too.
    assert cars[2].plate_display in text_of(second)


@pytest.mark.parametrize("mark", ["never_contact", "bounced"])
def test_issue18_no_reminder_to_an_address_that_said_never_or_bounced(world, quiet, mark):
    """Issue 18: never to a bounced or "never contact" address (owner and fleet manager)."""
    s = quiet
    car = owner_car(world)
    car.apk_expiry = MONDAY + dt.timedelta(weeks=5)
    fleet = s.get(FleetAccount, world.user("fleet-bakker").fleet_account_id)
    fleet_car = s.scalars(select(Passport).where(Passport.fleet_account_id == fleet.id)).first()
    fleet_car.apk_expiry = MONDAY + dt.timedelta(weeks=5)
    # The fleet manager's address is marked as a customer of the garage would be.
    manager = Customer(garage_id=fleet.garage_id, last_name="Bakker", email=fleet.email.upper())
    s.add(manager)
    for customer in (car.owner, manager):
        if mark == "never_contact":
            customer.never_contact = True
        else:
            customer.email_bounced_at = at(MONDAY - dt.timedelta(days=30))
    s.commit()
    assert run(world, MONDAY) == apk_reminders.RunResult(0, 0)


def test_issue18_no_digest_to_a_fleet_address_the_mail_server_refused(world, quiet):
    """Issue 18: the last mail to the fleet manager's address bounced: no digest."""
    s = quiet
    fleet = s.get(FleetAccount, world.user("fleet-bakker").fleet_account_id)
    car = s.scalars(select(Passport).where(Passport.fleet_account_id == fleet.id)).first()
    car.apk_expiry = MONDAY + dt.timedelta(weeks=5)
    s.add(
        OutboxMessage(
            recipient=fleet.email, kind="password_reset", subject="x", params={}, state="bounced"
        )
    )
    s.commit()
    assert run(world, MONDAY).digests == 0


def test_issue18_the_opt_out_link_of_a_reminder_stops_reminders_and_invitations(
    app,
    world,
    quiet,
    smtp,  # noqa: F811
):
    """Issue 18, R-CP-2: the reminder's one-click unsubscribe sets "never"."""
    s = quiet
    car = owner_car(world)
    car.apk_expiry = MONDAY + dt.timedelta(weeks=6)
    s.commit()
    run(world, MONDAY)
    _deliver(app, at(MONDAY, 8))
    (mail,) = received(smtp, car.owner.email)
    path = "/opt-out/" + mail["List-Unsubscribe"].strip("<>").rsplit("/opt-out/", 1)[1]
    client = app.test_client()  # a mail program's button: no login, no CSRF token
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    s.expire_all()
    assert s.get(Customer, car.owner_id).never_contact is True
    car = s.get(Passport, car.id)
    car.apk_expiry = dt.date(2031, 3, 20)  # a new date: still not reminded
    s.commit()
    assert run(world, dt.date(2031, 2, 10)).reminders == 0


@pytest.mark.parametrize(
    "history, reminded",
    [
        ("invoice for the car 7 weeks ago", 0),
        ("invoice for the customer 7 weeks ago", 0),
        ("invoice 9 weeks ago", 1),
        ("invited 7 weeks ago", 0),
        ("invited 9 weeks ago", 1),
        ("proposal decided yes, week not closed", 0),
        ("proposal decided no, week not closed", 1),
    ],
)
def test_issue18_no_reminder_to_a_customer_invited_or_invoiced_in_the_last_8_weeks(
    world, quiet, history, reminded
):
    """Issue 18, R-CP-1: invited (a proposal decided yes) or invoiced in the last 8 weeks:
    not reminded."""
    s = quiet
    car = owner_car(world)
    car.apk_expiry = MONDAY + dt.timedelta(weeks=6)
    weeks = 7 if "7 weeks" in history else 9
    day = MONDAY - dt.timedelta(weeks=weeks)
    if history.startswith("invoice"):
        other_car = owner_car(world, 1)
        s.add(
            Invoice(
                garage_id=car.garage_id,
                invoice_date=day,
                # The customer's invoice may be for a car of his the garage has no passport
                # of: here another plate.
                plate=car.plate if "customer" not in history else other_car.plate,
                customer_id=car.owner_id,
                amount_cents=10_000,
                kind="maintenance",
            )
        )
    else:
        week = proposals.iso_week(day)
        s.add(
            ContactProposal(
                garage_id=car.garage_id,
                week=week,
                week_start=proposals.week_monday(week),
                customer_id=car.owner_id,
                passport_id=car.id,
                reason="periodic",
                predicted_date=day,
                decision="no" if "decided no" in history else "yes",
                closed="not closed" not in history,
                invited_at=at(day) if history.startswith("invited") else None,
            )
        )
    s.commit()
    assert run(world, MONDAY).reminders == reminded


def test_issue18_no_contact_proposal_within_8_weeks_after_a_reminder(world, quiet):
    """Issue 18, R-CP-1: a customer reminded of the APK is not proposed for 8 weeks."""
    s = quiet
    reminded_car, other_car = owner_car(world, 0), owner_car(world, 1)
    reminded_car.apk_expiry = MONDAY + dt.timedelta(weeks=6)
    s.commit()
    assert run(world, MONDAY).reminders == 1
    # Both cars are predicted in the week of the reminded car's APK expiry: that one by
    # its APK, the other by its next service. The list is made the Monday before.
    week = proposals.iso_week(reminded_car.apk_expiry)
    reminded_car.next_service = None
    other_car.next_service = proposals.week_monday(week) + dt.timedelta(days=2)
    s.commit()
    proposals.make_proposals(s, week, at(MONDAY + dt.timedelta(weeks=5)))
    proposed = set(
        s.scalars(select(ContactProposal.passport_id).where(ContactProposal.week == week))
    )
    assert other_car.id in proposed and reminded_car.id not in proposed
    # Once the 8 weeks have passed, the customer is proposed again (the APK was done).
    later = proposals.iso_week(MONDAY + dt.timedelta(weeks=9))
    reminded_car.next_service = proposals.week_monday(later)
    reminded_car.apk_expiry = dt.date(2032, 4, 1)
    s.commit()
    proposals.make_proposals(s, later, at(MONDAY + dt.timedelta(weeks=8, days=1)))
    assert reminded_car.id in set(
        s.scalars(select(ContactProposal.passport_id).where(ContactProposal.week == later))
    )


def test_issue18_a_garage_switching_on_mails_only_cars_due_more_than_5_weeks_out(world, quiet):
    """Issue 18: reminders are off for a garage until it switches them on; the first run
    after switching on mails only the cars due more than 5 weeks out, and the cars it
    left out are not mailed on the days after either."""
    s = quiet
    # The demo's recent invoices and invitations (this test runs on today's dates).
    s.execute(delete(ContactProposal))
    s.execute(delete(Invoice))
    today = local_today()
    soon, later = owner_car(world, 0), owner_car(world, 1)
    soon.apk_expiry = today + dt.timedelta(weeks=5)  # due within 5 weeks: left out
    later.apk_expiry = today + dt.timedelta(weeks=5, days=2)
    garage = soon.garage
    garage.apk_reminders = False
    s.commit()
    tomorrow = today + dt.timedelta(days=1)
    assert run(world, tomorrow).reminders == 0  # off
    garage = s.get(type(garage), garage.id)
    garage.apk_reminders = True  # switched on today, as the settings screen does
    s.commit()
    assert garage.apk_reminders_from == today + dt.timedelta(weeks=5, days=1)
    # The run claimed for tomorrow ran (off); the day after is the first one switched on.
    assert run(world, tomorrow + dt.timedelta(days=1)).reminders == 1
    for day in range(2, 9):
        assert run(world, tomorrow + dt.timedelta(days=day)).reminders == 0
    reminded = s.scalars(select(ApkReminder.passport_id)).all()
    assert reminded == [later.id]


def _fleet_with_a_car_due(world):
    s = world.session
    fleet = s.get(FleetAccount, world.user("fleet-bakker").fleet_account_id)
    car = s.scalars(select(Passport).where(Passport.fleet_account_id == fleet.id)).first()
    car.apk_expiry = MONDAY + dt.timedelta(weeks=5)
    s.commit()
    return fleet


def test_issue18_the_overviews_stop_link_ends_the_weekly_digest(
    app,
    world,
    quiet,
    smtp,  # noqa: F811
):
    """Issue 18: the digest carries a stop link (also as List-Unsubscribe); following it
    stops the digests of that fleet account, and the change is in the history."""
    s = quiet
    fleet = _fleet_with_a_car_due(world)
    assert run(world, MONDAY).digests == 1
    _deliver(app, at(MONDAY, 8))
    (mail,) = received(smtp, fleet.email)
    link = mail["List-Unsubscribe"].strip("<>")
    assert "/apk-overview/stop/" in link and link in text_of(mail)
    path = "/apk-overview/stop/" + link.rsplit("/apk-overview/stop/", 1)[1]
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    assert "Geen wekelijks APK-overzicht meer per mail voor Bouwbedrijf Bakker?" in page
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    s.expire_all()
    assert s.get(FleetAccount, fleet.id).apk_digest_stopped_at is not None
    history = s.scalars(
        select(AuditLog.changes).where(
            AuditLog.table_name == "fleet_account", AuditLog.record_id == fleet.id
        )
    ).all()
    assert any("apk_digest_stopped_at" in changes for changes in history)
    assert run(world, MONDAY + dt.timedelta(days=7)).digests == 0
    assert client.get("/apk-overview/stop/not-a-token").status_code == 404


def test_issue18_an_earlier_mails_opt_out_link_still_works_after_a_newer_mail(
    app,
    world,
    quiet,
    smtp,  # noqa: F811
):
    """Issue 18, R-CP-2: a customer mailed a reminder and later another mail with an
    opt-out link may follow either link; a newer mail does not void the stop links."""
    s = quiet
    car = owner_car(world)
    car.apk_expiry = MONDAY + dt.timedelta(weeks=6)
    s.commit()
    run(world, MONDAY)
    car = s.get(Passport, car.id)
    car.apk_expiry = dt.date(2031, 3, 20)
    s.commit()
    run(world, dt.date(2031, 2, 6))
    _deliver(app, at(dt.date(2031, 2, 6), 8))
    first, second = received(smtp, car.owner.email)
    assert first["List-Unsubscribe"] != second["List-Unsubscribe"]
    path = "/opt-out/" + first["List-Unsubscribe"].strip("<>").rsplit("/opt-out/", 1)[1]
    response = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    s.expire_all()
    assert s.get(Customer, car.owner_id).never_contact is True
