"""Issue 15, the home page that says what needs doing: each count links to a list showing
exactly the rows it counted (R-PP-4, R-BJ-7, R-TR-2, R-IN-1, R-IN-2, R-CP-2, R-X-3, R-X-1),
in the caller's scope (R-SEC-1), for every role; Dutch and English (R-X-2)."""

from __future__ import annotations

import html
import re

import pytest

from admin_app.models.base import utcnow
from tests.services.test_dashboard_issue15 import add_one_of_each

TODO_ROW = re.compile(
    r'class="list-group-item todo-(?P<key>[a-z-]+)">'
    r'<span class="badge todo-count[^"]*">(?P<count>\d+)</span><a href="(?P<href>[^"]+)">'
)
FAB_RECORD_COUNT = re.compile(r"<strong>[^<]+:</strong>\s*(\d+)")


def todo_rows(page: str) -> dict[str, tuple[str, int]]:
    return {m["key"]: (html.unescape(m["href"]), int(m["count"])) for m in TODO_ROW.finditer(page)}


def rows_listed(key: str, page: str) -> int:
    """How many rows the list a home page link lands on shows, read as a user reads it."""
    if key == "bounced":
        return page.count('<tr><td data-label="')
    if key == "invitations":
        return page.count('id="new-customer-')
    if key == "drafts":
        return page.count('class="label label-warning"')
    if key == "proposals":
        return page.count('name="selected"')
    found = FAB_RECORD_COUNT.search(page)
    return int(found[1]) if found else 0  # FAB shows no count on an empty list


GARAGE_KEYS = {
    "not-sent",
    "bounced",
    "transfers",
    "invitations",
    "drafts",
    "proposals",
    "preview",
    "previewing",
    "running",
    "recalls",  # issue 18: passports with an open recall
}


@pytest.mark.parametrize("username", ["garage-jansen", "garage-devries"])
def test_issue15_each_garage_link_lists_exactly_the_counted_rows(world, login_as, username):
    """Every count on the garage home is a link; its list shows that many rows."""
    add_one_of_each(world.session, world.user(username).garage_id, utcnow())
    browser = login_as(username)
    rows = todo_rows(browser.get("/").get_data(as_text=True))
    assert set(rows) == GARAGE_KEYS
    for key, (href, count) in rows.items():
        assert count > 0, key
        answer = browser.get(href)
        assert answer.status_code == 200, (key, href)
        assert rows_listed(key, answer.get_data(as_text=True)) == count, (key, href)


def test_issue15_support_links_list_exactly_the_counted_rows_of_every_garage(world, login_as):
    """Support: bounced e-mails, failed batch jobs and failed mails, across garages."""
    now = utcnow()
    add_one_of_each(world.session, world.garage("Autobedrijf Jansen").id, now)
    add_one_of_each(world.session, world.garage("Garage De Vries").id, now)
    browser = login_as("support")
    rows = todo_rows(browser.get("/").get_data(as_text=True))
    assert set(rows) == {"bounced", "failed-batch-jobs", "failed-mails"}
    assert rows["failed-batch-jobs"][1] == 2 and rows["failed-mails"][1] == 2
    for key, (href, count) in rows.items():
        answer = browser.get(href)
        assert answer.status_code == 200, (key, href)
        assert rows_listed(key, answer.get_data(as_text=True)) == count, (key, href)


def test_issue15_garage_home_names_the_oldest_transfer_and_the_deadline(world, login_as):
    """R-TR-2 (age in words) and R-CP-2 (Sunday 15:00 Europe/Amsterdam), in both languages."""
    add_one_of_each(world.session, world.garage("Autobedrijf Jansen").id, utcnow())
    browser = login_as("garage-jansen")
    dutch = browser.get("/").get_data(as_text=True)
    assert "wacht al 3 dagen" in dutch
    assert re.search(r"Beslis uiterlijk zondag \d\d-\d\d-\d{4} 15:00", dutch)
    browser.get("/lang/en")
    english = browser.get("/").get_data(as_text=True)
    assert "waiting for 3 days" in english
    assert re.search(r"Decide by Sunday \d\d-\d\d-\d{4} 15:00", english)
    for quick in ('href="/passports/new"', 'href="/batch-jobs/upload"', 'href="/inspections/"'):
        assert quick in english


@pytest.mark.parametrize(
    ("username", "expected", "absent"),
    [
        ("admin", ["Overzicht van het platform", "todo-failed-mails", "Garages"], ["todo-drafts"]),
        (
            "support",
            ["todo-bounced", "todo-failed-batch-jobs", "todo-failed-mails"],
            ["todo-drafts", "Verstuurde mails", "todo-not-sent"],
        ),
        ("garage-jansen", ["todo-not-sent", "todo-proposals"], ["todo-failed-mails"]),
        ("eigenaar", ["my-passports"], ["home-todo"]),
    ],
)
def test_issue15_home_per_role(world, login_as, username, expected, absent):
    """The role matrix of the home page: what each role is shown, and not shown."""
    answer = login_as(username).get("/")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    for text in expected:
        assert text in page, text
    for text in absent:
        assert text not in page, text


def test_issue15_fleet_managers_home_stays_his_dashboard(world, login_as):
    answer = login_as("fleet-bakker").get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/my-fleet/list/")


def test_issue15_waiting_invitations_page_offers_a_form_for_each(world, login_as):
    """R-IN-1: the landing list of the invitations count offers the new-form buttons, and
    a car with a form made for its invitation leaves it."""
    browser = login_as("garage-jansen")
    page = browser.get("/inspections/?waiting=1").get_data(as_text=True)
    waiting = re.findall(r'id="new-customer-(\d+)"', page)
    assert waiting
    answer = browser.post(
        "/inspections/new",
        {"kind": "customer", "passport_id": waiting[0], "inspection_date": "2026-12-07"},
    )
    assert answer.status_code == 302
    after = browser.get("/inspections/?waiting=1").get_data(as_text=True)
    assert re.findall(r'id="new-customer-(\d+)"', after) == waiting[1:]
    home = todo_rows(browser.get("/").get_data(as_text=True))
    assert home["invitations"][1] == len(waiting) - 1
    assert home["drafts"][1] >= 1
