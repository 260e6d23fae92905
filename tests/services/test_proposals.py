"""R-CP-1…4: invoices, next-visit prediction, weekly proposals, deadline, conversion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict
from admin_app.models import ContactProposal, Invoice, OutboxMessage, Passport
from admin_app.services import inspections, proposals
from tests.mails import mail_text

DATA = Path(__file__).resolve().parents[1] / "data"
D = dt.date


# --- R-CP-1: the prediction on constructed histories ---------------------------------------


@pytest.mark.parametrize(
    "history, expected",
    [
        ([], None),
        ([D(2026, 3, 1)], D(2027, 3, 1)),  # one visit: a year
        ([D(2025, 1, 1), D(2025, 7, 2), D(2026, 1, 1)], D(2026, 7, 2)),  # every ~182 days
        ([D(2026, 1, 1), D(2026, 2, 1)], D(2026, 6, 1)),  # 31 days is kept at 120
        ([D(2020, 1, 1), D(2026, 1, 1)], D(2028, 1, 1)),  # six years is kept at two
        # Only the last four visits count: the 2015 visit would lengthen the interval.
        (
            [D(2015, 1, 1), D(2025, 1, 1), D(2025, 5, 1), D(2025, 9, 1), D(2026, 1, 1)],
            D(2026, 5, 2),
        ),
    ],
)
def test_r_cp_1_next_service_from_the_maintenance_history(history, expected):
    assert proposals.predict_next_service(history) == expected


def test_r_cp_1_the_visit_is_the_next_service_or_the_apk_whichever_comes_first():
    assert proposals.predicted_visit(D(2026, 5, 1), D(2026, 4, 1)) == D(2026, 4, 1)
    assert proposals.predicted_visit(None, D(2026, 4, 1)) == D(2026, 4, 1)
    assert proposals.predicted_visit(D(2026, 5, 1), None) == D(2026, 5, 1)
    assert proposals.predicted_visit(None, None) is None


def _add_invoices(s, passport, dates, kind="maintenance", cents=25_000):
    for day in dates:
        s.add(
            Invoice(
                garage_id=passport.garage_id,
                invoice_date=day,
                plate=passport.plate,
                customer_id=passport.owner_id,
                amount_cents=cents,
                kind=kind,
            )
        )
    s.flush()


def test_r_cp_1_the_sql_prediction_follows_the_documented_rule(world):
    s = world.session
    cars = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")
    histories = [
        [D(2026, 3, 1)],
        [D(2025, 1, 1), D(2025, 7, 2), D(2026, 1, 1)],
        [D(2026, 1, 1), D(2026, 2, 1)],
        [D(2015, 1, 1), D(2025, 1, 1), D(2025, 5, 1), D(2025, 9, 1), D(2026, 1, 1)],
    ]
    for car, history in zip(cars, histories, strict=False):
        _add_invoices(s, car, history)
        _add_invoices(s, car, [D(2026, 6, 1)], kind="repair")  # not maintenance
    proposals.update_next_service(s)
    s.commit()
    for car, history in zip(cars, histories, strict=False):
        s.refresh(car)
        assert car.next_service == proposals.predict_next_service(history), history


# --- R-CP-1/2: the weekly list ---------------------------------------------------------------

WEEK = "2027-W10"  # Monday 8 March 2027
NOW = dt.datetime(2027, 3, 1, 6, 0, tzinfo=dt.UTC)  # the Monday before


def _due_in_week(world, count=4):
    cars = _distinct_owners(
        [
            p
            for p in world.passports(garage_id=world.garage("Autobedrijf Jansen").id)
            if p.state != "archived" and not p.stock_car
        ],
        count,
    )
    for car in cars:
        car.next_service = D(2027, 3, 10)
        car.apk_expiry = D(2027, 9, 1)
    world.session.commit()
    return cars


def test_r_cp_1_proposals_leave_out_never_and_recently_invoiced_or_invited(world):
    s = world.session
    for p in s.scalars(select(Passport)).unique():
        p.next_service, p.apk_expiry = None, None
    due, never, invoiced, invited = _due_in_week(world)
    never.owner.never_contact = True
    _add_invoices(s, invoiced, [D(2027, 2, 1)], kind="repair")
    s.add(
        ContactProposal(
            garage_id=invited.garage_id,
            week="2027-W05",
            week_start=D(2027, 2, 1),
            customer_id=invited.owner_id,
            passport_id=invited.id,
            reason="periodic",
            predicted_date=D(2027, 2, 3),
            decision="yes",
            closed=True,
            invited_at=dt.datetime(2027, 1, 31, 14, tzinfo=dt.UTC),
        )
    )
    s.commit()
    assert proposals.make_proposals(s, WEEK, NOW) == 1
    assert proposals.make_proposals(s, WEEK, NOW) == 0  # repeated: nothing doubled
    proposed = s.scalars(select(ContactProposal).where(ContactProposal.week == WEEK)).all()
    assert [p.passport_id for p in proposed] == [due.id]
    assert proposed[0].predicted_date == D(2027, 3, 10) and proposed[0].decision == "yes"


@pytest.mark.parametrize(
    "week, utc_deadline",
    [
        ("2027-W10", dt.datetime(2027, 3, 7, 14, 0, tzinfo=dt.UTC)),  # winter: 15:00 CET
        ("2027-W24", dt.datetime(2027, 6, 13, 13, 0, tzinfo=dt.UTC)),  # summer: 15:00 CEST
        ("2027-W13", dt.datetime(2027, 3, 28, 13, 0, tzinfo=dt.UTC)),  # the DST Sunday itself
    ],
)
def test_r_cp_2_the_week_closes_on_sunday_15_00_amsterdam(week, utc_deadline):
    assert proposals.deadline(week) == utc_deadline
    assert not proposals.is_closed(week, utc_deadline - dt.timedelta(seconds=1))
    assert proposals.is_closed(week, utc_deadline)


def test_r_cp_1_the_run_is_due_monday_06_00_amsterdam_and_runs_once(world):
    s = world.session
    monday_0459_utc = dt.datetime(2027, 3, 1, 4, 59, tzinfo=dt.UTC)  # 05:59 in Amsterdam
    assert proposals.weekly_run(s, monday_0459_utc) is None
    assert proposals.weekly_run(s, monday_0459_utc + dt.timedelta(minutes=1)) is not None
    assert proposals.weekly_run(s, monday_0459_utc + dt.timedelta(hours=3)) is None
    # Down all Monday: the run happens when the system is back that week.
    assert proposals.weekly_run(s, dt.datetime(2027, 3, 10, 9, tzinfo=dt.UTC)) is not None


def test_r_cp_2_decisions_until_the_deadline_then_invitations_with_opt_out(acting_as, world, app):
    s = world.session
    for p in s.scalars(select(Passport)).unique():
        p.next_service, p.apk_expiry = None, None
    cars = _due_in_week(world, 3)
    proposals.make_proposals(s, WEEK, NOW)
    s.commit()
    ids = {
        p.passport_id: p.id
        for p in s.scalars(select(ContactProposal).where(ContactProposal.week == WEEK))
    }
    before_deadline = proposals.deadline(WEEK) - dt.timedelta(minutes=1)
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            proposals.decide(s, [ids[cars[1].id]], "no", actor=acting.actor, now=before_deadline)
            proposals.decide(s, [ids[cars[2].id]], "never", actor=acting.actor, now=before_deadline)
        with pytest.raises(Conflict):
            proposals.decide(
                s, [ids[cars[0].id]], "no", actor=acting.actor, now=proposals.deadline(WEEK)
            )
    assert s.get(Passport, cars[2].id).owner.never_contact
    mails = s.scalar(select(func.count()).select_from(OutboxMessage))
    with app.app_context(), unit_of_work(s):  # as in the worker's clock job
        sent = proposals.close_due_weeks(s, proposals.deadline(WEEK))
    invited = s.scalars(
        select(ContactProposal.passport_id).where(
            ContactProposal.week == WEEK, ContactProposal.invited_at.is_not(None)
        )
    ).all()
    assert invited == [cars[0].id]  # "no" and "never" are not invited
    # (The demo's advice follow-up of an earlier week closes at the same time.)
    assert s.scalar(select(func.count()).select_from(OutboxMessage)) == mails + sent
    mail = s.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == cars[0].owner.email)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).one()
    assert mail.recipient == cars[0].owner.email and mail.kind == "invitation"
    token = mail_text(s, mail).split("/opt-out/")[1].split()[0]
    with app.app_context(), unit_of_work(s):
        customer = proposals.opt_out(s, token)
    assert customer.id == cars[0].owner_id and customer.never_contact
    assert all(p.closed for p in s.scalars(select(ContactProposal)))


def test_r_cp_3_advice_saved_in_week_n_is_proposed_in_week_n_plus_1(acting_as, world):
    s = world.session
    for username, garage, expected in (
        ("garage-jansen", "Autobedrijf Jansen", "no"),
        ("garage-devries", "Garage De Vries", "yes"),  # the garage's setting says yes
    ):
        car = world.passports(garage_id=world.garage(garage).id, state="activated")[2]
        with acting_as(username) as acting:
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
        followup = s.scalars(
            select(ContactProposal).where(
                ContactProposal.passport_id == car.id, ContactProposal.reason == "advice"
            )
        ).one()
        now = dt.datetime.now(dt.UTC)
        assert followup.week == proposals.open_week(now)
        assert followup.decision == expected and "Banden" in followup.advice


def _distinct_owners(cars, count):
    chosen, owners = [], set()
    for car in cars:
        if car.owner_id not in owners:
            chosen.append(car)
            owners.add(car.owner_id)
    return chosen[:count]


def test_r_cp_4_conversion_counts_invoices_within_eight_weeks(world):
    s = world.session
    jansen = world.garage("Autobedrijf Jansen").id
    cars = _distinct_owners(world.passports(garage_id=jansen, state="activated"), 3)
    invited_at = dt.datetime(2027, 3, 7, 14, tzinfo=dt.UTC)
    for car in cars:
        s.add(
            ContactProposal(
                garage_id=car.garage_id,
                week=WEEK,
                week_start=D(2027, 3, 8),
                customer_id=car.owner_id,
                passport_id=car.id,
                reason="periodic",
                predicted_date=D(2027, 3, 10),
                decision="yes",
                closed=True,
                invited_at=invited_at,
            )
        )
    _add_invoices(s, cars[0], [D(2027, 3, 12)], cents=30_000)
    _add_invoices(s, cars[0], [D(2027, 4, 1)], cents=5_000)
    _add_invoices(s, cars[1], [D(2027, 6, 1)], cents=99_999)  # later than 8 weeks
    s.commit()
    rows = {row.week: row for row in proposals.conversion(s)}
    assert rows[WEEK] == proposals.WeekConversion(WEEK, 3, 1, 35_000)


def test_r_cp_1_the_sample_invoice_export_imports_with_its_total(acting_as, world):
    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            result = proposals.import_invoices(
                s,
                filename="facturen-voorbeeld.csv",
                data=(DATA / "facturen-voorbeeld.csv").read_bytes(),
                actor=acting.actor,
            )
    assert result.created == 107 and result.refused == []
    assert result.total_cents == 7_872_784  # € 78.727,84
