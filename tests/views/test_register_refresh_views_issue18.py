"""Issue 18: the nightly refresh from the worker's clock to the register page — claimed
once per night, run by the worker against the fake RDW API, shown to Admin in words with
Dutch times; off (the default) says so."""

from __future__ import annotations

import re
from html import unescape

import pytest

from admin_app.jobs import clock
from admin_app.jobs.register import refresh_register
from admin_app.services import register_refresh
from tests.conftest import DB_KIND
from tests.mails import run_queued
from tests.services.test_register_refresh_issue18 import TOKEN, FakeRdw, _hold

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens and the clock's hand-over")


def _text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_issue18_the_clock_claims_the_refresh_once_and_the_page_tells_it(
    app, world, login_as, monkeypatch
):
    """Issue 18 (nightly refresh): off by default and the page says so; with RDW_API_URL
    the clock claims tonight's run once, the worker runs it, and the register page shows
    when, how many plates, how many found, in Dutch and English."""
    admin = login_as("admin")
    assert "Uit: de instellingen van de server" in _text(
        admin.get("/register/").get_data(as_text=True)
    )
    run_queued(app, refresh_register, perform=False)
    fake = FakeRdw()
    try:
        _hold(world.session, "7ZTK17")
        monkeypatch.setitem(app.config, "RDW_API_URL", fake.url)
        monkeypatch.setitem(app.config, "RDW_APP_TOKEN", TOKEN)
        monkeypatch.setattr(register_refresh, "RUN_HOUR", 0)  # due whenever this runs
        with app.app_context():
            clock.refresh_register()
            clock.refresh_register()  # the next tick: claimed already
        assert "nog niet gedraaid" not in _text(admin.get("/register/").get_data(as_text=True))
        assert run_queued(app, refresh_register) == 1
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    text = _text(admin.get("/register/").get_data(as_text=True))
    assert "Nachtelijke verversing vanuit de RDW" in text
    assert re.search(r"Laatste verversing: begonnen \d\d-\d\d-\d{4} \d\d:\d\d, geëindigd", text)
    assert re.search(r"\d+ kentekens opgevraagd, waarvan 1 bekend bij de RDW", text)
    english = _text(admin.get("/register/?_l_=en").get_data(as_text=True))
    assert "of them known to RDW and brought up to date" in english
