"""Issue 18: the calendar address rules, without HTTP (services/calendar_feeds)."""

from __future__ import annotations

import icalendar
import pytest

from admin_app.db import unit_of_work
from admin_app.domain.errors import Forbidden, NotFound
from admin_app.services import calendar_feeds
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(
    DB_KIND != "sqlite", reason="rules over one table and the scope: SQLite is enough"
)


@pytest.mark.parametrize("username", ["garage-jansen", "support", "admin"])
def test_issue18_only_owners_and_fleet_managers_have_a_calendar(acting_as, world, username):
    with acting_as(username) as acting:
        with pytest.raises(Forbidden):
            calendar_feeds.new_feed_address(world.session, actor=acting.actor)
        with pytest.raises(Forbidden):
            calendar_feeds.stop_feed(world.session, actor=acting.actor)


def test_issue18_a_new_address_revokes_the_old_and_a_switched_off_login_has_none(
    app, acting_as, world
):
    s = world.session
    with acting_as("eigenaar") as acting:
        with unit_of_work(s):
            _first, old = calendar_feeds.new_feed_address(s, actor=acting.actor)
        with unit_of_work(s):
            feed, new = calendar_feeds.new_feed_address(s, actor=acting.actor)
        assert calendar_feeds.current_feed(s, actor=acting.actor).id == feed.id
    with pytest.raises(NotFound):
        calendar_feeds.feed_for_secret(s, old)
    assert calendar_feeds.feed_for_secret(s, new).id == feed.id
    with app.app_context():
        ics = icalendar.Calendar.from_ical(
            calendar_feeds.calendar_ics(s, feed, host="console.example")
        )
    assert str(ics["X-WR-CALNAME"]) == "AutoPaspoort – mijn voertuigen"
    assert all(str(e["UID"]).endswith("@console.example") for e in ics.walk("VEVENT"))
    world.user("eigenaar").active = False
    s.commit()
    with pytest.raises(NotFound):
        calendar_feeds.feed_for_secret(s, new)
