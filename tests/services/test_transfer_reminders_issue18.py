"""Issue 18 (R-TR-2): the new owner is reminded once when his accept link is 3 days from
expiring; the garage or fleet manager that started a transfer is told when it is accepted
or expires."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.jobs.clock import tick
from admin_app.models import AuditLog, OutboxMessage, Transfer
from admin_app.models.base import utcnow
from admin_app.services import transfers
from admin_app.services.passports import PersonDetails
from tests.conftest import DB_KIND
from tests.mails import mail_text

pytestmark = pytest.mark.skipif(
    DB_KIND != "sqlite", reason="mail rules, no SQL of their own worth a second database"
)

KNOWN_OWNER = PersonDetails.from_mapping(
    {"email": "eigenaar@example.nl", "first_name": "Eva", "last_name": "Eigenaar"}
)


def _car(world, starter):
    if starter == "fleet-bakker":
        return world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    jansen = world.garage("Autobedrijf Jansen")
    return world.passports(garage_id=jansen.id, stock_car=True)[0]


def _start(acting_as, world, starter="garage-jansen") -> Transfer:
    s = world.session
    car = _car(world, starter)
    with acting_as(starter) as acting, unit_of_work(s):
        done = transfers.start_transfer(s, car.id, actor=acting.actor, person=KNOWN_OWNER).transfer
    assert done.state == "pending"
    return done


def _mails(session, kind, transfer_id=None):
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()
    return [m for m in rows if transfer_id is None or m.params["transfer_id"] == transfer_id]


def test_issue18_new_owner_is_reminded_once_3_days_before_expiry_across_ticks(
    app, world, acting_as
):
    """R-TR-2, issue 18: 11 days after the transfer nothing; at 3 days before expiry one
    reminder with a working accept link and the last day, and a second tick (or a
    second worker: the claim is a conditional UPDATE) sends no second one."""
    s = world.session
    done = _start(acting_as, world)
    tick(app)
    assert _mails(s, "transfer_reminder") == []
    transfer = s.get(Transfer, done.id)
    transfer.expires_at = utcnow() + timedelta(days=3, minutes=-1)
    s.commit()
    tick(app)
    tick(app)
    reminders = _mails(s, "transfer_reminder", done.id)
    assert len(reminders) == 1
    assert reminders[0].recipient == "eigenaar@example.nl"
    assert transfers.remind_transfers(s) == 0  # claimed: a later run finds nothing to do
    text = mail_text(s, reminders[0])
    assert "Eva Eigenaar" in text
    raw = re.search(r"/transfer/accept/(\S+)", text).group(1)
    with acting_as("eigenaar") as acting, unit_of_work(s):
        transfers.accept_transfer(s, raw, actor=acting.actor)
    assert s.get(Transfer, done.id).state == "accepted"
    entry = s.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == "transfer", AuditLog.record_id == done.id)
        .where(AuditLog.actor_name == "job:transfer-reminder")
    ).one()
    assert "reminded_at" in entry.changes


def test_issue18_the_reminder_names_the_last_day_in_dutch(app, world, acting_as):
    s = world.session
    done = _start(acting_as, world)
    expires = utcnow() + timedelta(days=2)
    s.get(Transfer, done.id).expires_at = expires
    s.commit()
    with app.app_context(), unit_of_work(s):
        assert transfers.remind_transfers(s) == 1
    (reminder,) = _mails(s, "transfer_reminder", done.id)
    from admin_app.domain.clock import local_date, local_today

    day = local_date(local_today(expires))
    assert day in reminder.subject and reminder.subject.startswith("Herinnering")
    text = mail_text(s, reminder)
    assert day in text and "/transfer/accept/" in text


@pytest.mark.parametrize("starter", ["garage-jansen", "fleet-bakker"])
@pytest.mark.parametrize("ending", ["accepted", "expired"])
def test_issue18_the_starter_is_told_when_the_transfer_is_accepted_or_expires(
    app, world, acting_as, starter, ending
):
    """The garage (at its own e-mail) or the fleet manager (at his login's) that started
    the transfer gets one mail in words: who, which car, what happened."""
    s = world.session
    done = _start(acting_as, world, starter)
    if ending == "accepted":
        raw = re.search(r"/transfer/accept/(\S+)", mail_text(s)).group(1)
        with acting_as("eigenaar") as acting, unit_of_work(s):
            transfers.accept_transfer(s, raw, actor=acting.actor)
    else:
        with app.app_context(), unit_of_work(s):
            assert transfers.expire_transfers(s, utcnow() + timedelta(days=14, seconds=1))
    (told,) = _mails(s, f"transfer_{ending}", done.id)
    if starter == "garage-jansen":
        expected = world.garage("Autobedrijf Jansen").email
    else:
        expected = world.user("fleet-bakker").email
    assert told.recipient == expected
    text = mail_text(s, told)
    plate = s.get(Transfer, done.id).passport.plate_display
    assert plate in text and "eigenaar@example.nl" in text
    # The console tells the garage; the garage does not sign a mail to itself.
    assert text.rstrip().endswith(f"Met vriendelijke groet,\n{app.config['APP_NAME']}")
    if ending == "accepted":
        assert "geaccepteerd" in told.subject and "geaccepteerd" in text
    else:
        assert "verlopen" in told.subject and "verlopen" in text


def test_issue18_a_cancelled_transfer_tells_nobody_and_is_not_reminded(app, world, acting_as):
    s = world.session
    done = _start(acting_as, world)
    s.get(Transfer, done.id).expires_at = utcnow() + timedelta(days=1)
    s.commit()
    with acting_as("garage-jansen") as acting, unit_of_work(s):
        transfers.cancel_transfer(s, done.id, actor=acting.actor)
    with app.app_context(), unit_of_work(s):
        assert transfers.remind_transfers(s) == 0
    assert not [m for m in _mails(s, "transfer_reminder", done.id)]
    assert not _mails(s, "transfer_accepted", done.id) + _mails(s, "transfer_expired", done.id)


def test_issue18_no_reminder_to_a_bounced_address(app, world, acting_as):
    """R-PP-5: the mail server refused the new owner's address; a reminder would bounce."""
    s = world.session
    done = _start(acting_as, world)
    transfer = s.get(Transfer, done.id)
    transfer.expires_at = utcnow() + timedelta(days=2)
    transfer.to_customer.email_bounced_at = utcnow()
    s.commit()
    with app.app_context(), unit_of_work(s):
        assert transfers.remind_transfers(s) == 0
    assert _mails(s, "transfer_reminder", done.id) == []


def test_issue18_the_transfer_mail_names_the_car_as_the_register_knows_it(world, acting_as):
    """The new owner's mail names brand and model as they count: a stock car typed without
    them reads as the vehicle register's Volkswagen Golf (7ZTK17 in the demo register)."""
    s = world.session
    car = _car(world, "garage-jansen")
    car.plate, car.brand, car.model = "7ZTK17", None, None
    s.commit()
    done = _start(acting_as, world)
    (notice,) = _mails(s, "transfer_notice", done.id)
    assert "(Volkswagen Golf)" in mail_text(s, notice)


def test_issue18_the_accept_page_names_the_car_as_the_register_knows_it(world, acting_as, login_as):
    """The page the mailed link opens says which car, as the mail does."""
    s = world.session
    car = _car(world, "garage-jansen")
    car.plate, car.brand, car.model = "7ZTK17", None, None
    s.commit()
    done = _start(acting_as, world)
    (notice,) = _mails(s, "transfer_notice", done.id)
    link = re.search(r"/transfer/accept/\S+", mail_text(s, notice)).group(0)
    page = login_as("eigenaar").get(link).get_data(as_text=True)
    assert "7-ZTK-17 (Volkswagen Golf) wordt aan u overgedragen." in page
