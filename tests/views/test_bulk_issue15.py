"""Issue 15, bulk actions on the passport list and the "Taken" page, through HTTP:
confirmation with the count, CSRF, scope of selections and of tasks (R-SEC-1, R-PP-4,
R-PP-8)."""

from __future__ import annotations

import re

from sqlalchemy import select

from admin_app.models import Passport, Task

COUNT_RE = re.compile(r'name="count" value="(\d+)"')


def _jansen(world, **filters):
    return world.passports(garage_id=world.garage("Autobedrijf Jansen").id, **filters)


def test_issue15_list_offers_bulk_actions_by_role(world, login_as):
    """Issue 15: the garage gets checkboxes and its four actions; Support gets send only
    (it may not archive or link); the fleet manager gets none."""
    page = login_as("garage-jansen").get("/passports/list/").get_data(as_text=True)
    assert 'class="bulk-check"' in page
    for kind in ("send", "archive", "link", "unlink"):
        assert f"bulk-{kind}" in page
    page = login_as("support").get("/passports/list/").get_data(as_text=True)
    assert "bulk-send" in page and "bulk-archive" not in page and "bulk-link" not in page
    page = login_as("fleet-bakker").get("/passports/list/").get_data(as_text=True)
    assert "bulk-check" not in page


def test_issue15_bulk_send_of_all_matching_the_filter_confirms_the_count(world, login_as):
    """R-PP-4: "all that match" the list's filter, confirmed with its count, runs in the
    request and leads to the task's page with each row's outcome."""
    garage = login_as("garage-jansen")
    unsent = _jansen(world, state="created")
    filter_args = "all=1&_flt_0_state=created"
    page = garage.get(f"/passports/bulk/send?{filter_args}").get_data(as_text=True)
    assert COUNT_RE.search(page).group(1) == str(len(unsent))
    response = garage.post(f"/passports/bulk/send?{filter_args}", {"count": str(len(unsent))})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert "/tasks/show/" in response.headers["Location"]
    world.session.expire_all()
    assert all(world.session.get(Passport, p.id).state == "sent" for p in unsent)
    shown = garage.get(response.headers["Location"]).get_data(as_text=True)
    assert shown.count("task-row-done") == len(unsent)
    # The selection is read in the reader's language, not stored in the sender's (R-X-2).
    garage.get("/lang/en")
    shown = garage.get(response.headers["Location"]).get_data(as_text=True)
    assert f"All {len(unsent)} that match: State: Not sent" in shown
    assert "verzonden" not in shown


def test_issue15_bulk_post_without_csrf_or_with_a_changed_count_changes_nothing(world, login_as):
    """Issue 15: no CSRF token → 400; the selection no longer the count confirmed → 409."""
    garage = login_as("garage-jansen")
    car = _jansen(world, state="created")[0]
    response = garage.post("/passports/bulk/send", {"id": str(car.id), "count": "1"}, csrf=False)
    assert response.status_code == 400
    response = garage.post("/passports/bulk/send", {"id": str(car.id), "count": "2"})
    assert response.status_code == 409
    world.session.expire_all()
    assert world.session.get(Passport, car.id).state == "created"
    assert world.session.scalar(select(Task.id)) is None


def test_issue15_archiving_more_than_50_asks_for_the_count_typed(world, login_as, acting_as):
    """R-PP-8: over 50 passports, the typed count must match."""
    garage = login_as("garage-jansen")
    live = [p.id for p in _jansen(world) if p.state != "archived"]
    assert len(live) > 50, "the demo garage needs over 50 live passports for this test"
    data = {"id": [str(i) for i in live], "count": str(len(live)), "typed_count": "5"}
    response = garage.post("/passports/bulk/archive", data)
    assert response.status_code == 422
    assert 'value="5"' in response.get_data(as_text=True)  # what was typed is kept


def test_issue15_smuggled_ids_and_other_garages_tasks_stay_out_of_reach(world, login_as):
    """R-SEC-1: De Vries's ids in Jansen's selection are dropped; Jansen's task is a 404
    for De Vries and missing from its list; Support sees it."""
    mine = _jansen(world, state="created")[0]
    theirs = world.passports(garage_id=world.garage("Garage De Vries").id, state="created")[0]
    garage = login_as("garage-jansen")
    response = garage.post(
        "/passports/bulk/archive", {"id": [str(mine.id), str(theirs.id)], "count": "1"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    task_url = response.headers["Location"]
    world.session.expire_all()
    assert world.session.get(Passport, theirs.id).state == "created"
    assert world.session.get(Passport, mine.id).state == "archived"
    devries = login_as("garage-devries")
    assert devries.get(task_url).status_code == 404
    assert mine.plate_display not in devries.get("/tasks/list/").get_data(as_text=True)
    assert login_as("support").get(task_url).status_code == 200


def test_issue15_bulk_tasks_are_not_batch_jobs(world, login_as, api_client):
    """Issue 15: /api/v1/batch_job/ lists customer lists only."""
    api = api_client("garage-jansen")
    before = api.get("/api/v1/batch_job/").get_json()["count"]
    garage = login_as("garage-jansen")
    car = _jansen(world, state="created")[0]
    garage.post("/passports/bulk/send", {"id": str(car.id), "count": "1"})
    assert world.session.scalar(select(Task.id)) is not None
    assert api.get("/api/v1/batch_job/").get_json()["count"] == before


def test_issue15_undo_of_an_archive_task_through_its_page(world, login_as):
    """Issue 15, R-PP-8: the task's page offers the undo to the garage; without CSRF it
    changes nothing; with it the passports are back, and the archive task's page then
    links to the undo instead of offering it again. Support sees no undo button."""
    garage = login_as("garage-jansen")
    cars = _jansen(world, state="sent")[:2]
    response = garage.post(
        "/passports/bulk/archive", {"id": [str(c.id) for c in cars], "count": "2"}
    )
    task_url = response.headers["Location"]
    task_id = int(task_url.rstrip("/").rsplit("/", 1)[1])
    assert 'id="undo-task"' in garage.get(task_url).get_data(as_text=True)
    assert 'id="undo-task"' not in login_as("support").get(task_url).get_data(as_text=True)
    garage.post(f"/tasks/{task_id}/undo", csrf=False)
    world.session.expire_all()
    assert all(world.session.get(Passport, c.id).state == "archived" for c in cars)
    response = garage.post(f"/tasks/{task_id}/undo")
    assert response.status_code == 302 and "/tasks/show/" in response.headers["Location"]
    world.session.expire_all()
    assert all(world.session.get(Passport, c.id).state == "sent" for c in cars)
    page = garage.get(task_url).get_data(as_text=True)
    assert 'id="undo-task"' not in page and "/tasks/show/" in page
