"""Issue 18, the calendar panel as an owner reads it: plain Dutch ("het het" read as a
typo) and "datums", not "data", which a car owner reads as the car's data."""

from __future__ import annotations

import pytest

from tests.conftest import DB_KIND
from tests.views.test_calendar_feeds_issue18 import fetch, subscribe
from tests.views.test_register_views_issue18 import _text

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens only")


def test_issue18_the_calendar_panel_reads_as_plain_dutch(app, world, login_as):
    owner = login_as("eigenaar")
    made = _text(owner.post("/calendar/new").get_data(as_text=True))
    assert "Iedereen met het adres ziet de datums van uw auto's" in made
    assert fetch(app, subscribe(owner)).status_code == 200
    page = _text(owner.get("/my-vehicles/list/").get_data(as_text=True))
    assert "Datums in uw eigen agenda" in page
    assert "Laatst opgehaald door een agenda-app:" in page and "het het" not in page
    assert " data " not in page
