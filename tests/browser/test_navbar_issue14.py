"""Issue 14: the navbar fits in one row at 1366 px for every role, in Dutch and English;
a fleet login's name shows once; phone pages (390 px) are no wider than the screen."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.conftest import DB_KIND

# Layout does not depend on the database; one run on SQLite keeps the suite's time down.
pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="layout in a browser: SQLite only")

ROLES = ["admin", "garage-jansen", "garage-devries", "fleet-bakker", "support", "eigenaar"]
# One row of Bootstrap's navbar is 50 px (plus borders); a second row adds 50 more.
ONE_ROW = 60
# rq-dashboard (/admin/rq, Admin's queues since issue 17) is a third-party tool with its own
# page and no translations: not the console's layout.
MENU_LINKS = """() => [...document.querySelectorAll('.navbar a[href]')]
    .map(a => a.getAttribute('href'))
    .filter(h => h.startsWith('/') && h !== '/')
    .filter(h => !/^\\/(lang|logout|users|admin\\/rq)\\//.test(h))"""
ITEM_TOPS = """() => [...document.querySelectorAll('.navbar-nav > li')]
    .map(li => Math.round(li.getBoundingClientRect().top))"""
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def _set_language(page, language):
    # FAB's language switch keeps the choice in the session; ?_l_= holds for one page only.
    page.goto(f"/lang/{language}")
    page.wait_for_load_state()
    page.goto("/")
    assert page.get_attribute("html", "lang") == language


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("username", ROLES)
def test_issue14_navbar_fits_one_row_at_1366(page, world, username, language):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, username)
    _set_language(page, language)
    for path in ["/", *sorted(set(page.evaluate(MENU_LINKS)))[:3]]:
        page.goto(path)
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == language, path
        height = page.locator(".navbar").first.bounding_box()["height"]
        tops = set(page.evaluate(ITEM_TOPS))
        assert height <= ONE_ROW and len(tops) == 1, (
            f"{username} ({language}) {path}: navbar {height:.0f} px high, rows at {tops}"
        )


def test_issue14_fleet_login_is_named_once_in_the_navbar(page, world):
    """A fleet login carries the company name as first and last name (services/fleets):
    the navbar said "Bouwbedrijf Bakker Bouwbedrijf Bakker"."""
    user = world.user("fleet-bakker")
    user.first_name = user.last_name = "Bouwbedrijf Bakker"
    world.session.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "fleet-bakker")
    navbar = page.locator(".navbar").first.inner_text()
    assert navbar.count("Bouwbedrijf Bakker") == 1, navbar


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("username", ROLES)
def test_issue14_phone_pages_are_not_wider_than_the_screen(page, world, username, language):
    """At 390 px every page the role's menu leads to fits the screen's width."""
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, username)
    _set_language(page, language)
    paths = ["/", *sorted(set(page.evaluate(MENU_LINKS)))]
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = []
    for path in paths:
        page.goto(path)
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == language, path
        scroll_width, width = page.evaluate(WIDTHS)
        if scroll_width > width:
            too_wide.append(f"{path}: {scroll_width} px")
    assert not too_wide, f"{username} ({language}) at 390 px: {too_wide}"
