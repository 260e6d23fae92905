"""Issue 14: a bounced address is not proposed or invited until it is corrected (R-PP-5,
R-BJ-7, R-CP-1/2), and the two bulk updates write one audit row per changed record
(R-SEC-2): the bounce marks and the weekly next service dates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict
from admin_app.models import AuditLog, ContactProposal, Customer, Invoice, Passport
from admin_app.services import proposals
from admin_app.services.audit import Actor
from admin_app.services.bounces import mark_bounced

D = dt.date
WEEK = "2027-W10"  # Monday 8 March 2027
NOW = dt.datetime(2027, 3, 1, 6, 0, tzinfo=dt.UTC)  # the Monday before
MAIL_JOB = Actor.job("mail-delivery")


def _due_cars(world, count):
    """``count`` live cars of Jansen with distinct owners, due in WEEK; no other car is."""
    s = world.session
    for p in s.scalars(select(Passport)).unique():
        p.next_service, p.apk_expiry = None, None
    cars, owners = [], set()
    for car in world.passports(garage_id=world.garage("Autobedrijf Jansen").id):
        if car.state == "archived" or car.stock_car or car.owner_id in owners:
            continue
        if car.owner.email_bounced_at or car.owner.never_contact:
            continue
        cars.append(car)
        owners.add(car.owner_id)
        car.next_service = D(2027, 3, 10)
        if len(cars) == count:
            break
    s.commit()
    return cars


def _audit_rows(s, table, record_ids, after):
    s.expire_all()
    return s.scalars(
        select(AuditLog)
        .where(
            AuditLog.id > after, AuditLog.table_name == table, AuditLog.record_id.in_(record_ids)
        )
        .order_by(AuditLog.id)
    ).all()


def test_issue14_a_bounced_address_is_not_proposed(world):
    """R-CP-1 with R-PP-5: the weekly run leaves out a customer whose address bounced."""
    s = world.session
    fine, bounced = _due_cars(world, 2)
    bounced.owner.email_bounced_at = NOW - dt.timedelta(days=1)
    s.commit()
    assert proposals.make_proposals(s, WEEK, NOW) == 1
    proposed = s.scalars(select(ContactProposal.passport_id).where(ContactProposal.week == WEEK))
    assert list(proposed) == [fine.id]
    # Corrected (the mark is cleared): proposed again.
    bounced.owner.email_bounced_at = None
    s.commit()
    assert proposals.make_proposals(s, WEEK, NOW) == 1


def test_issue14_a_bounce_withdraws_open_proposals_and_is_audited_per_customer(
    world, acting_as, app
):
    """R-PP-5: marking an address bounced marks every customer with it (any garage, any
    capitals), one audit row each (R-SEC-2); their open "yes" proposals are withdrawn, a
    "yes" is refused until the address is fixed, and the week's close invites nobody."""
    s = world.session
    fine, bounced = _due_cars(world, 2)
    proposals.make_proposals(s, WEEK, NOW)
    address = bounced.owner.email
    # The same address at another garage, in capitals.
    elsewhere = s.scalars(
        select(Customer).where(Customer.garage_id == world.garage("Garage De Vries").id)
    ).first()
    elsewhere.email = address.upper()
    s.commit()
    ids = {
        p.passport_id: p.id
        for p in s.scalars(select(ContactProposal).where(ContactProposal.week == WEEK))
    }
    assert s.get(ContactProposal, ids[bounced.id]).decision == "yes"
    before = s.scalar(select(func.max(AuditLog.id)))
    with unit_of_work(s):
        assert mark_bounced(s, f" {address} ", now=NOW, actor=MAIL_JOB) == 2
    rows = _audit_rows(s, "customer", [bounced.owner_id, elsewhere.id], before)
    assert len(rows) == 2 and {r.actor_name for r in rows} == {"job:mail-delivery"}
    assert all(r.action == "update" and r.garage_id for r in rows)
    assert all(set(r.changes) == {"email_bounced_at"} for r in rows)
    assert all(r.changes["email_bounced_at"][0] is None for r in rows)
    # A second bounce changes nothing: no row, and the first date is kept.
    with unit_of_work(s):
        assert mark_bounced(s, address, now=NOW + dt.timedelta(hours=1), actor=MAIL_JOB) == 0
    assert len(_audit_rows(s, "customer", [bounced.owner_id, elsewhere.id], before)) == 2

    s.expire_all()
    assert s.get(ContactProposal, ids[bounced.id]).decision == "no"  # withdrawn
    assert s.get(ContactProposal, ids[fine.id]).decision == "yes"
    before_deadline = proposals.deadline(WEEK) - dt.timedelta(minutes=1)
    with acting_as("garage-jansen") as acting:
        with pytest.raises(Conflict) as refused:
            proposals.decide(s, [ids[bounced.id]], "yes", actor=acting.actor, now=before_deadline)
        assert "Onjuiste e-mails" in str(refused.value.message)
    with app.app_context(), unit_of_work(s):  # as in the worker's clock job
        proposals.close_due_weeks(s, proposals.deadline(WEEK))
    invited = s.scalars(
        select(ContactProposal.passport_id).where(
            ContactProposal.week == WEEK, ContactProposal.invited_at.is_not(None)
        )
    ).all()
    assert invited == [fine.id]


def test_issue14_the_week_list_shows_a_withdrawn_proposal_as_e_mail_onjuist(world, login_as):
    """R-PP-5 on the list: the bounced customer's row has no choice to make, only the
    reason, in Dutch and in English."""
    s = world.session
    _, bounced = _due_cars(world, 2)
    proposals.make_proposals(s, WEEK, NOW)
    s.commit()
    with unit_of_work(s):
        mark_bounced(s, bounced.owner.email, now=NOW, actor=MAIL_JOB)
    proposal = s.scalars(
        select(ContactProposal).where(
            ContactProposal.week == WEEK, ContactProposal.passport_id == bounced.id
        )
    ).one()
    browser = login_as("garage-jansen")
    page = browser.get(f"/proposals/?week={WEEK}").get_data(as_text=True)
    assert "E-mail onjuist" in page, page[page.find("<body") :]
    assert f'name="decision-{proposal.id}"' not in page
    assert f'name="selected" value="{proposal.id}"' not in page
    english = browser.get(f"/proposals/?week={WEEK}&_l_=en").get_data(as_text=True)
    assert "E-mail incorrect" in english


def test_issue14_advice_of_a_bounced_customer_is_not_proposed(world, acting_as):
    """R-CP-3 with R-PP-5: an inspection's advice is no proposal while the address is bad."""
    from admin_app.services import inspections

    s = world.session
    car = world.passports(garage_id=world.garage("Garage De Vries").id, state="activated")[2]
    car.owner.email_bounced_at = dt.datetime.now(dt.UTC)
    s.commit()
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            form = inspections.create_draft(
                s,
                kind="all_ok",
                actor=acting.actor,
                inspector="Piet",
                inspection_date=dt.date.today(),
                passport_id=car.id,
            )
            inspections.update_form(
                s,
                form.id,
                {"advice": [{"description": "Banden", "price": "200"}]},
                actor=acting.actor,
            )
            inspections.save_form(s, form.id, actor=acting.actor)
    assert (
        s.scalar(
            select(func.count())
            .select_from(ContactProposal)
            .where(ContactProposal.passport_id == car.id, ContactProposal.reason == "advice")
        )
        == 0
    )


def test_issue14_next_service_dates_are_audited_one_row_per_changed_passport(world):
    """R-SEC-2: the weekly run's set-based date update writes an audit row per passport
    whose date changed (old → new), and none when a rerun changes nothing."""
    s = world.session
    cars = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[:2]
    for car, day in zip(cars, (D(2026, 3, 1), D(2026, 5, 1)), strict=True):
        car.next_service = None
        s.add(
            Invoice(
                garage_id=car.garage_id,
                invoice_date=day,
                plate=car.plate,
                customer_id=car.owner_id,
                amount_cents=25_000,
                kind="maintenance",
            )
        )
    s.commit()
    before = s.scalar(select(func.max(AuditLog.id)))
    with unit_of_work(s, Actor.job("weekly-proposals")):
        changed = proposals.update_next_service(s, world.garage("Autobedrijf Jansen").id)
    rows = s.scalars(
        select(AuditLog).where(AuditLog.id > before, AuditLog.table_name == "passport")
    ).all()
    assert changed >= 2 and len(rows) == changed
    by_passport = {r.record_id: r for r in rows}
    assert by_passport[cars[0].id].changes == {"next_service": [None, "2027-03-01"]}
    assert by_passport[cars[1].id].passport_id == cars[1].id
    assert {r.actor_name for r in rows} == {"job:weekly-proposals"}
    s.expire_all()
    assert s.get(Passport, cars[1].id).next_service == D(2027, 5, 1)
    last = s.scalar(select(func.max(AuditLog.id)))
    with unit_of_work(s, Actor.job("weekly-proposals")):
        assert proposals.update_next_service(s) == 0
    assert s.scalar(select(func.max(AuditLog.id))) == last
