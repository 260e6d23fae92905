"""Issue 18: an Owner and a fleet manager subscribe to a calendar (ICS) from their page,
at a secret address that a new address or "stop" revokes; the feed holds the APK expiry,
next service and mobility-service renewal of their own cars, as all-day events."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
from sqlalchemy import select

from admin_app.domain.plates import display_plate
from admin_app.models import AuditLog, CalendarFeed, Passport
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(
    DB_KIND != "sqlite", reason="screens and a feed over the scope's queries: SQLite is enough"
)

ADDRESS = re.compile(r'id="calendar-address" value="([^"]+)"')


def subscribe(browser) -> str:
    """Press the panel's button; the path of the address shown once."""
    response = browser.post("/calendar/new")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    address = ADDRESS.search(response.get_data(as_text=True)).group(1)
    assert address.endswith(".ics")
    return "/calendar/" + address.rsplit("/calendar/", 1)[1]


def fetch(app, path):
    """A calendar app: no cookie, no login."""
    return app.test_client().get(path)


def events(response) -> list:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")


def own_cars(world, username):
    """The cars the login's own scope holds (what "Mijn voertuigen" lists)."""
    from admin_app.scope import scope_for_user

    s = world.session
    scope = scope_for_user(world.user(username))
    return (
        s.scalars(
            select(Passport).options(*scope.loader_criteria()).where(Passport.state != "archived")
        )
        .unique()
        .all()
    )


def test_issue18_owner_feed_has_his_cars_dates_as_all_day_events_with_stable_uids(
    app, world, login_as
):
    """The feed parsed with icalendar: per car and kind an all-day event (VALUE=DATE) on
    the passport's date, its UID stable across fetches, the title in Dutch with the
    plate as the console shows it; another owner's cars are never in it."""
    owner = login_as("eigenaar")
    page = owner.get("/my-vehicles/list/").get_data(as_text=True)
    assert "Datums in uw eigen agenda" in page and "Toevoegen aan mijn agenda" in page
    path = subscribe(owner)
    first = fetch(app, path)
    got = {str(e["UID"]): e for e in events(first)}
    cars = own_cars(world, "eigenaar")
    assert cars
    expected = {}
    for car in cars:
        for kind, field in (
            ("apk", "apk_expiry"),
            ("service", "next_service"),
            ("mobility", "mobility_renewal"),
        ):
            if getattr(car, field):
                expected[f"{kind}-{car.id}@"] = (getattr(car, field), car)
    assert expected, "the demo owner's cars have dates"
    assert len(got) == len(expected)
    for uid, event in got.items():
        day, car = expected[uid.split("@")[0] + "@"]
        start = event["DTSTART"]
        assert start.params.get("VALUE") == "DATE" and start.dt == day
        assert not isinstance(start.dt, dt.datetime)
        assert event["DTEND"].dt == day + dt.timedelta(days=1)
        assert display_plate(car.plate) in str(event["SUMMARY"])
        if uid.startswith("apk-"):
            assert str(event["SUMMARY"]).startswith("APK verloopt")
    # Stable: a second fetch names the same events the same way.
    assert {str(e["UID"]) for e in events(fetch(app, path))} == set(got)
    body = first.get_data(as_text=True)
    mine = {c.id for c in cars}
    others = world.session.scalars(select(Passport).where(Passport.id.not_in(mine))).unique()
    leaked = [p.plate for p in others if display_plate(p.plate) in body]
    assert not leaked
    assert "eigenaar@example.nl" not in body


def test_issue18_feed_is_cacheable_with_an_etag_and_a_limit_per_address(app, world, login_as):
    path = subscribe(login_as("eigenaar"))
    response = fetch(app, path)
    assert "private" in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = app.test_client().get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert app.config["CALENDAR_FEED_RATE_LIMIT"]


def test_issue18_new_address_and_stop_revoke_the_old_one_404_and_are_audited(app, world, login_as):
    owner = login_as("eigenaar")
    first = subscribe(owner)
    assert fetch(app, first).status_code == 200
    second = subscribe(owner)
    assert fetch(app, first).status_code == 404
    assert fetch(app, second).status_code == 200
    page = owner.get("/my-vehicles/list/").get_data(as_text=True)
    assert "calendar-feed-stop" in page and second not in page  # shown once, never again
    response = owner.post("/calendar/stop")
    assert response.status_code == 302
    assert fetch(app, second).status_code == 404
    assert fetch(app, "/calendar/" + "x" * 43 + ".ics").status_code == 404
    s = world.session
    s.expire_all()
    feeds = s.scalars(select(CalendarFeed)).all()
    secret = second.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(feeds) == 2 and all(f.revoked_at for f in feeds)
    assert all(secret not in f.token_hash for f in feeds)  # only its hash is kept
    entries = s.scalars(select(AuditLog).where(AuditLog.table_name == "calendar_feed")).all()
    assert [e.action for e in entries].count("insert") == 2
    assert [e.action for e in entries].count("update") == 2
    assert all(secret not in str(e.changes) for e in entries)


def test_issue18_fleet_feed_follows_the_fleet(app, world, login_as):
    """A car that leaves the fleet leaves the fleet manager's calendar at the next poll."""
    s = world.session
    manager = login_as("fleet-bakker")
    assert "calendar-feed" in manager.get("/my-fleet/list/").get_data(as_text=True)
    path = subscribe(manager)
    fleet_id = world.user("fleet-bakker").fleet_account_id
    cars = world.passports(fleet_account_id=fleet_id)
    dated = [c for c in cars if c.apk_expiry]
    assert dated
    leaving = dated[0]
    first = fetch(app, path)
    uids = {str(e["UID"]).split("@")[0] for e in events(first)}
    assert f"apk-{leaving.id}" in uids
    fleet = world.user("fleet-bakker").fleet_account
    name = icalendar.Calendar.from_ical(first.get_data())["X-WR-CALNAME"]
    assert str(name) == f"AutoPaspoort – {fleet.name}"
    leaving.fleet_account_id = None
    s.commit()
    uids = {str(e["UID"]).split("@")[0] for e in events(fetch(app, path))}
    assert f"apk-{leaving.id}" not in uids
    assert any(u.startswith("apk-") for u in uids) or len(dated) == 1


@pytest.mark.parametrize("username", ["garage-jansen", "support", "admin"])
def test_issue18_role_matrix_only_owners_and_fleet_managers_make_an_address(
    app, world, login_as, username
):
    """The new routes per role: a garage and Support may not make or stop an address
    (403), Admin, who holds every permission, is refused by the rule; none gets one."""
    browser = login_as(username)
    for path in ("/calendar/new", "/calendar/stop"):
        response = browser.post(path)
        assert response.status_code in (302, 403, 404), (path, response.status_code)
        assert response.status_code < 500
    world.session.expire_all()
    assert world.session.scalars(select(CalendarFeed)).all() == []


def test_issue18_the_panel_speaks_dutch_and_english(app, world, login_as):
    owner = login_as("eigenaar")
    dutch = owner.get("/my-vehicles/list/").get_data(as_text=True)
    assert "Toevoegen aan mijn agenda" in dutch and "Add to my calendar" not in dutch
    english = owner.get("/my-vehicles/list/?_l_=en").get_data(as_text=True)
    assert "Add to my calendar" in english and "Dates in your own calendar" in english


def test_issue18_the_feed_is_limited_per_address_not_per_client(app, world, login_as):
    """Calendar services poll from a few shared addresses: the secret address is counted
    (CALENDAR_FEED_RATE_LIMIT), so one runaway subscription does not stop the others."""
    limit = app.config["CALENDAR_FEED_RATE_LIMIT"]
    app.config["CALENDAR_FEED_RATE_LIMIT"] = "2 per hour"
    try:
        owner_path = subscribe(login_as("eigenaar"))
        fleet_path = subscribe(login_as("fleet-bakker"))
        assert [fetch(app, owner_path).status_code for _ in range(3)] == [200, 200, 429]
        assert fetch(app, fleet_path).status_code == 200
    finally:
        app.config["CALENDAR_FEED_RATE_LIMIT"] = limit


def test_issue18_attack_head_requests_count_against_the_feeds_limit(app, world, login_as):
    """Issue 18 (attack): the limit counted GET only; Flask answers HEAD with the same view
    (the whole feed made, the fetch noted), so HEAD polled without limit."""
    limit = app.config["CALENDAR_FEED_RATE_LIMIT"]
    app.config["CALENDAR_FEED_RATE_LIMIT"] = "2 per hour"
    try:
        path = subscribe(login_as("eigenaar"))
        client = app.test_client()
        assert [client.head(path).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get(path).status_code == 429
    finally:
        app.config["CALENDAR_FEED_RATE_LIMIT"] = limit
