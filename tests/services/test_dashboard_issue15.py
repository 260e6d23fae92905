"""Issue 15, the home page: each count is exact and in the caller's scope (R-SEC-1), and
names what waits — R-PP-4 (not sent), R-BJ-7 (Onjuiste e-mails), R-TR-2 (transfers
waiting for acceptance), R-IN-1/R-IN-2 (invitations without a form, drafts), R-CP-2 (this
week's proposals and their Sunday 15:00 deadline), R-X-3 (batch jobs with progress), R-X-1
(failed mails)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import pytest
from sqlalchemy import select

from admin_app.domain.clock import AMSTERDAM
from admin_app.models import (
    BatchJob,
    ContactProposal,
    InspectionForm,
    InspectionInvitation,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.services import dashboard, proposals


def garage_counts(todo: dashboard.GarageToDo) -> dict[str, int]:
    return {
        "not_sent": todo.not_sent,
        "bounced": todo.bounced,
        "waiting_transfers": todo.waiting_transfers,
        "open_invitations": todo.open_invitations,
        "draft_forms": todo.draft_forms,
        "proposals": todo.proposals.count,
        "preview": todo.preview,
        "previewing": todo.previewing,
        "running": todo.running,
    }


def counts_of(acting_as, username, now):
    with acting_as(username) as acting:
        session = acting.world.session
        if username == "support":
            return asdict(dashboard.support_todo(session))
        return garage_counts(dashboard.garage_todo(session, now))


def add_one_of_each(session, garage_id: int, now: dt.datetime) -> None:
    """One more of every waiting thing at ``garage_id``, committed (no scope: a test set-up)."""
    cars = (
        session.scalars(
            select(Passport)
            .where(Passport.garage_id == garage_id, Passport.state == "activated")
            .where(Passport.stock_car.is_(False), Passport.fleet_account_id.is_(None))
            .order_by(Passport.id)
        )
        .unique()
        .all()
    )
    not_sent, bounced, transferred, invited, proposed = cars[-5:]
    not_sent.state = "created"
    bounced.owner.email_bounced_at = now
    session.flush()
    # Another car of the same owner would be counted twice: the bounce is per address.
    assert session.scalars(
        select(Passport).where(Passport.owner_id == bounced.owner_id)
    ).unique().all() == [bounced]
    transferred.state = "transfer_pending"
    session.add(
        Transfer(
            passport_id=transferred.id,
            garage_id=garage_id,
            to_customer_id=transferred.owner_id,
            to_email="koper@example.nl",
            created_by="test",
            created_at=now - dt.timedelta(days=3),
        )
    )
    session.add(InspectionInvitation(garage_id=garage_id, passport_id=invited.id))
    session.add(
        InspectionForm(
            garage_id=garage_id,
            kind="blank",
            inspector="Piet",
            inspection_date=now.date(),
            content={"customer": {}, "vehicle": {}, "dates": {}, "results": [], "advice": []},
            created_by="test",
        )
    )
    week = proposals.open_week(now)
    session.add(
        ContactProposal(
            garage_id=garage_id,
            week=week,
            week_start=proposals.week_monday(week),
            customer_id=proposed.owner_id,
            passport_id=proposed.id,
            reason="apk",
            predicted_date=proposals.week_monday(week),
            decision="no",
        )
    )
    for state in ("preview", "previewing", "running", "failed"):
        session.add(
            BatchJob(garage_id=garage_id, filename=f"{state}.csv", uploaded_by="test", state=state)
        )
    session.add(
        OutboxMessage(
            garage_id=garage_id,
            recipient="x@example.nl",
            kind="activation",
            subject="s",
            params={},
            state="failed",
        )
    )
    session.commit()


def test_issue15_each_count_is_exact_and_never_counts_another_garage(acting_as, world):
    """R-SEC-1: one more of each waiting thing at De Vries raises each of De Vries's counts
    and Support's by exactly one, and none of Jansen's."""
    now = utcnow()
    before = {
        who: counts_of(acting_as, who, now)
        for who in ("garage-jansen", "garage-devries", "support")
    }
    add_one_of_each(world.session, world.garage("Garage De Vries").id, now)
    after = {
        who: counts_of(acting_as, who, now)
        for who in ("garage-jansen", "garage-devries", "support")
    }
    assert after["garage-jansen"] == before["garage-jansen"]
    assert after["garage-devries"] == {k: v + 1 for k, v in before["garage-devries"].items()}
    assert after["support"] == {k: v + 1 for k, v in before["support"].items()}


@pytest.mark.parametrize("username", ["garage-jansen", "garage-devries"])
def test_issue15_garage_counts_equal_the_rows_of_that_garage(acting_as, world, username):
    """Each count against the rows it names, counted unscoped with the garage's id."""
    s, now = world.session, utcnow()
    garage_id = world.user(username).garage_id

    def live(**where):
        return [p for p in world.passports(garage_id=garage_id, **where)]

    bounced = [
        p
        for p in world.passports(garage_id=garage_id)
        if p.state != "archived" and p.owner.email_bounced_at is not None
    ]
    answered = set(s.scalars(select(InspectionForm.invitation_id)).all())
    invitations = [
        i
        for i in s.scalars(
            select(InspectionInvitation).where(InspectionInvitation.garage_id == garage_id)
        )
        if i.id not in answered and i.passport.state != "archived"
    ]
    counts = counts_of(acting_as, username, now)
    assert counts["not_sent"] == len(live(state="created"))
    assert counts["bounced"] == len(bounced) > 0
    assert counts["waiting_transfers"] == len(live(state="transfer_pending")) > 0
    assert counts["open_invitations"] == len(invitations)
    week = proposals.open_week(now)
    assert counts["proposals"] == len(
        s.scalars(
            select(ContactProposal).where(
                ContactProposal.garage_id == garage_id, ContactProposal.week == week
            )
        ).all()
    )


def test_issue15_oldest_transfers_come_first_with_their_age(acting_as, world):
    """R-TR-2: the transfers waiting longest, oldest first, each with how long it waits."""
    s, now = world.session, utcnow()
    jansen = world.garage("Autobedrijf Jansen")
    pending = s.scalars(
        select(Transfer).where(Transfer.garage_id == jansen.id, Transfer.state == "pending")
    ).all()
    assert len(pending) == 1
    cars = [
        p
        for p in world.passports(garage_id=jansen.id, state="activated")
        if not p.stock_car and p.fleet_account_id is None
    ][:2]
    for days, car in zip((9, 2), cars, strict=True):
        car.state = "transfer_pending"
        s.add(
            Transfer(
                passport_id=car.id,
                garage_id=jansen.id,
                to_customer_id=car.owner_id,
                to_email="koper@example.nl",
                created_by="test",
                created_at=now - dt.timedelta(days=days),
            )
        )
    s.commit()
    with acting_as("garage-jansen") as acting:
        oldest = dashboard.oldest_waiting_transfers(acting.world.session, now)
        assert [w.transfer.passport_id for w in oldest] == [
            cars[0].id,
            cars[1].id,
            pending[0].passport_id,
        ]
        assert oldest[0].age == dt.timedelta(days=9)
        assert dashboard.waiting_transfers_count(acting.world.session) == 3
    with acting_as("garage-devries") as acting:
        assert all(
            w.transfer.garage_id != jansen.id
            for w in dashboard.oldest_waiting_transfers(acting.world.session, now)
        )


@pytest.mark.parametrize(
    ("now", "week", "deadline"),
    [
        # Sunday 14:59 Amsterdam (winter): next week is still open, closing at 15:00.
        (dt.datetime(2026, 12, 6, 13, 59, tzinfo=dt.UTC), "2026-W50", "2026-12-06 15:00"),
        # A minute after 15:00 the week after is the one to decide on.
        (dt.datetime(2026, 12, 6, 14, 1, tzinfo=dt.UTC), "2026-W51", "2026-12-13 15:00"),
        # Summer time: 15:00 Amsterdam is 13:00 UTC.
        (dt.datetime(2026, 6, 28, 12, 59, tzinfo=dt.UTC), "2026-W27", "2026-06-28 15:00"),
    ],
)
def test_issue15_this_weeks_proposals_and_their_sunday_deadline(
    acting_as, world, now, week, deadline
):
    """R-CP-2: the proposals still open to a decision, and Sunday 15:00 Europe/Amsterdam."""
    with acting_as("garage-jansen") as acting:
        shown = dashboard.week_proposals(acting.world.session, now)
    assert shown.week == week
    assert shown.deadline.tzinfo is not None
    assert shown.deadline.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M") == deadline
    assert shown.deadline.astimezone(AMSTERDAM).weekday() == 6


def test_issue15_active_batch_jobs_with_progress_in_scope(acting_as, world):
    """R-X-3: lists being read or run, with progress; another garage's never listed."""
    s = world.session
    jansen, devries = world.garage("Autobedrijf Jansen"), world.garage("Garage De Vries")
    for garage, state, done in (
        (jansen, "running", 40),
        (devries, "previewing", 7),
        (jansen, "done", 100),
    ):
        s.add(
            BatchJob(
                garage_id=garage.id,
                filename=f"{garage.id}-{state}.csv",
                uploaded_by="test",
                state=state,
                total_rows=100,
                done_rows=done,
            )
        )
    s.commit()
    with acting_as("garage-jansen") as acting:
        jobs = dashboard.active_batch_jobs(acting.world.session)
        assert [(j.garage_id, j.state, j.progress) for j in jobs] == [
            (jansen.id, "running", {"done": 40, "total": 100})
        ]
    with acting_as("support") as acting:
        assert {j.state for j in dashboard.active_batch_jobs(acting.world.session)} == {
            "running",
            "previewing",
        }


def test_issue15_bounced_counts_each_live_passport_of_a_bounced_address(acting_as, world):
    """R-BJ-7: an archived passport is not on the Onjuiste e-mails list, so not counted."""
    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    with acting_as("garage-jansen") as acting:
        before = dashboard.bounced_count(acting.world.session)
    car = next(
        p
        for p in world.passports(garage_id=jansen.id)
        if p.owner.email_bounced_at is not None and p.state != "archived"
    )
    car.state = "archived"
    s.commit()
    with acting_as("garage-jansen") as acting:
        assert dashboard.bounced_count(acting.world.session) == before - 1
