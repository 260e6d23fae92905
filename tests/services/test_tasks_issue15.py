"""Issue 15, bulk actions: a task runs each passport through its one-by-one rule and
reports each row's outcome with the rule's reason; an archive task can be undone within
7 days for passports whose plate is still free (R-PP-4, R-PP-8, R-FL-3, R-SEC-1, R-SEC-2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from admin_app.domain.errors import Forbidden, InvalidInput, NotFound
from admin_app.models import AuditLog, FleetAccount, OutboxMessage, Passport, TaskRow
from admin_app.services import passports as passport_rules
from admin_app.services import tasks


def _jansen(world, **filters):
    return world.passports(garage_id=world.garage("Autobedrijf Jansen").id, **filters)


def _rows(world, task):
    return {
        row.passport_id: row
        for row in world.session.scalars(select(TaskRow).where(TaskRow.task_id == task.id))
    }


def test_issue15_bulk_send_reports_each_row_with_the_rules_reason(world, acting_as):
    """R-PP-4: unsent passports are sent (a mail each, audited as one by one); an
    activated one is "not sent" with the reason the profile gives."""
    unsent = _jansen(world, state="created")[:2]
    activated = _jansen(world, state="activated")[0]
    ids = [p.id for p in unsent] + [activated.id]
    with acting_as("garage-jansen") as acting:
        s = world.session
        task = tasks.create_task(s, "send", ids, actor=acting.actor)
        tasks.start(s, task, actor=acting.actor)
        rows = _rows(world, task)
        assert task.state == "done" and task.done_rows == 3 and task.total_rows == 3
        for passport in unsent:
            assert rows[passport.id].outcome == "done"
            assert s.get(Passport, passport.id).state == "sent"
            assert s.scalar(
                select(AuditLog.id).where(
                    AuditLog.table_name == "passport",
                    AuditLog.record_id == passport.id,
                    AuditLog.actor_name == "garage-jansen",
                )
            )
        refused = rows[activated.id]
        assert refused.outcome == "refused"
        with force_locale("en"):
            assert tasks.row_text(task, refused) == (
                "not sent: Only a passport that is not activated yet can be sent."
            )
        # Read in the reader's language, whatever language the task ran in.
        assert tasks.row_text(task, refused).startswith("niet verzonden: Alleen een")
        assert s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.params["passport_id"].as_integer() == unsent[0].id
            )
        )


def test_issue15_smuggled_ids_of_another_garage_are_left_out(world, acting_as):
    """R-SEC-1: ids of De Vries's passports in Jansen's selection are not acted on."""
    mine = _jansen(world, state="created")[0]
    theirs = world.passports(garage_id=world.garage("Garage De Vries").id, state="created")[0]
    with acting_as("garage-jansen") as acting:
        task = tasks.create_task(world.session, "archive", [mine.id, theirs.id], actor=acting.actor)
        tasks.start(world.session, task, actor=acting.actor)
        assert task.total_rows == 1
        assert set(_rows(world, task)) == {mine.id}
        assert world.session.get(Passport, theirs.id).state == "created"
        with pytest.raises(InvalidInput):
            tasks.create_task(world.session, "send", [theirs.id], actor=acting.actor)


def test_issue15_link_only_to_the_garages_own_fleet_accounts(world, acting_as):
    """R-FL-3: a garage links its activated cars to one of its own fleet accounts."""
    car = next(
        p for p in _jansen(world, state="activated") if not p.fleet_account_id and not p.stock_car
    )
    devries_fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Garage De Vries").id)
    ).first()
    jansen_fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Autobedrijf Jansen").id)
    ).first()
    with acting_as("garage-jansen") as acting:
        if devries_fleet is not None:
            with pytest.raises(InvalidInput):
                tasks.create_task(
                    world.session,
                    "link",
                    [car.id],
                    actor=acting.actor,
                    fleet_account_id=devries_fleet.id,
                )
        task = tasks.create_task(
            world.session,
            "link",
            [car.id],
            actor=acting.actor,
            fleet_account_id=jansen_fleet.id,
        )
        tasks.start(world.session, task, actor=acting.actor)
        assert world.session.get(Passport, car.id).fleet_account_id == jansen_fleet.id
        row = _rows(world, task)[car.id]
        with force_locale("en"):
            assert tasks.row_text(task, row) == f"linked to {jansen_fleet.name}"
        again = tasks.create_task(world.session, "unlink", [car.id], actor=acting.actor)
        tasks.start(world.session, again, actor=acting.actor)
        assert world.session.get(Passport, car.id).fleet_account_id is None


def test_issue15_undo_an_archive_task_brings_back_passports_whose_plate_is_free(world, acting_as):
    """R-PP-8: undone within 7 days; a plate taken by a new live passport meanwhile stays
    archived, and its row says so."""
    free, taken = _jansen(world, state="sent")[:2]
    with acting_as("garage-jansen") as acting:
        s = world.session
        task = tasks.create_task(s, "archive", [free.id, taken.id], actor=acting.actor)
        tasks.start(s, task, actor=acting.actor)
        assert s.get(Passport, free.id).state == "archived"
        # The plate of "taken" gets a new passport meanwhile.
        passport_rules.create_passport(
            s,
            actor=acting.actor,
            plate=taken.plate,
            person=passport_rules.PersonDetails(email="nieuw@example.nl", last_name="Nieuw"),
            vehicle=passport_rules.VehicleDetails(),
        )
        undo = tasks.undo_archive(s, task.id, actor=acting.actor)
        tasks.start(s, undo, actor=acting.actor)
        rows = _rows(world, undo)
        assert s.get(Passport, free.id).state == "sent"
        assert rows[free.id].outcome == "done"
        assert s.get(Passport, taken.id).state == "archived"
        assert rows[taken.id].outcome == "refused"
        with force_locale("en"):
            assert "Another live passport has plate" in tasks.row_text(undo, rows[taken.id])
        with pytest.raises(InvalidInput):
            tasks.undo_archive(s, task.id, actor=acting.actor)  # once


def test_issue15_undo_only_within_seven_days_and_only_by_the_garage(world, acting_as):
    """Issue 15: after 7 days an archive task cannot be undone; Support never undoes."""
    car = _jansen(world, state="sent")[0]
    with acting_as("garage-jansen") as acting:
        s = world.session
        task = tasks.create_task(s, "archive", [car.id], actor=acting.actor)
        tasks.start(s, task, actor=acting.actor)
        later = task.created_at + timedelta(days=7, minutes=1)
        with pytest.raises(InvalidInput):
            tasks.undo_archive(s, task.id, actor=acting.actor, now=later)
        s.commit()
    with acting_as("support") as acting:
        with pytest.raises(Forbidden):
            tasks.undo_archive(world.session, task.id, actor=acting.actor)
    with acting_as("garage-devries") as acting:
        with pytest.raises(NotFound):
            tasks.undo_archive(world.session, task.id, actor=acting.actor)


def test_issue15_confirmation_states_the_count_and_large_archivings_type_it():
    """Issue 15: the count confirmed must still be the selection's; archiving more than 50
    asks for the count typed, sending does not."""
    from admin_app.domain.errors import Conflict

    tasks.check_confirmation("send", 600, confirmed="600")
    with pytest.raises(Conflict):
        tasks.check_confirmation("send", 601, confirmed="600")
    tasks.check_confirmation("archive", 50, confirmed="50")
    with pytest.raises(InvalidInput):
        tasks.check_confirmation("archive", 51, confirmed="51", typed="50")
    tasks.check_confirmation("archive", 51, confirmed="51", typed=" 51 ")
    too_many = tasks.MAX_SELECTION + 1
    with pytest.raises(InvalidInput):
        tasks.check_confirmation("send", too_many, confirmed=str(too_many))
