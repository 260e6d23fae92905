"""Issue 15: a bulk task over more than 500 passports runs as one rq job in a real worker
process (real Redis), with its progress stored, and ends with every row's outcome."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.models import Passport, Task, TaskRow
from admin_app.services import passports as passport_rules
from admin_app.services import tasks
from tests.jobs.test_batch_worker import wait_for, worker

COUNT_RE = re.compile(r'name="count" value="(\d+)"')


def test_issue15_more_than_500_rows_run_as_one_job_in_the_worker(app, world, acting_as, login_as):
    """Issue 15, R-PP-4: 520 unsent passports, "all that match", are sent by the worker;
    the request only stores the task."""
    with acting_as("garage-devries") as acting:
        with unit_of_work(world.session, acting.actor):
            for number in range(520):
                passport_rules.create_passport(
                    world.session,
                    actor=acting.actor,
                    plate=f"TT-{number // 100:02d}-{number % 100:02d}",
                    person=passport_rules.PersonDetails(
                        email=f"klant{number}@example.nl", last_name="Klant"
                    ),
                    vehicle=passport_rules.VehicleDetails(),
                )
    s = world.session
    garage_id = world.garage("Garage De Vries").id
    unsent = s.scalar(
        select(func.count())
        .select_from(Passport)
        .where(Passport.garage_id == garage_id, Passport.state == "created")
    )
    assert unsent > tasks.IN_REQUEST_LIMIT
    devries = login_as("garage-devries")
    query = "all=1&_flt_0_state=created"
    page = devries.get(f"/passports/bulk/send?{query}").get_data(as_text=True)
    assert COUNT_RE.search(page).group(1) == str(unsent)
    assert "runs in the background" in page or "op de achtergrond" in page
    response = devries.post(f"/passports/bulk/send?{query}", {"count": str(unsent)})
    assert response.status_code == 302
    task = s.scalars(select(Task)).one()
    assert task.state == "waiting" and task.total_rows == unsent  # nothing ran in the request
    process = worker(app)
    try:

        def finished():
            s.expire_all()
            return s.get(Task, task.id).state == "done"

        wait_for(finished, 240, "the bulk task to be done")
    finally:
        process.terminate()
        process.wait(timeout=10)
    done = s.scalar(
        select(func.count())
        .select_from(TaskRow)
        .where(TaskRow.task_id == task.id, TaskRow.outcome == "done")
    )
    assert done == unsent
    assert not s.scalar(
        select(func.count())
        .select_from(Passport)
        .where(Passport.garage_id == garage_id, Passport.state == "created")
    )
