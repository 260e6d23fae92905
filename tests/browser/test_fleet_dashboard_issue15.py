"""Issue 15 (R-FL-5) in Chromium: the fleet dashboard's red and amber marks sit on the right
rows, said in words too; the filter "overdue" leaves the overdue car; the car's forms open
read-only. Dutch and English, 1366 and 390 px (no sideways scrolling on a phone)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_app.models import FleetAccount
from tests.browser.conftest import log_in
from tests.conftest import DB_KIND

# Layout does not depend on the database; one run on SQLite keeps the suite's time down.
pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="layout in a browser: SQLite only")

WORDS = {
    "nl": {"overdue": "verlopen", "soon": "binnen 30 dagen", "filter": "Verlopen"},
    "en": {"overdue": "overdue", "soon": "within 30 days", "filter": "Overdue"},
}
RED, AMBER = "rgb(217, 83, 79)", "rgb(240, 173, 78)"  # Bootstrap 3's danger and warning
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def _cars(world):
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.name == "Bouwbedrijf Bakker")
    ).one()
    return world.passports(fleet_account_id=fleet.id)


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_issue15_fleet_dashboard_colours_and_overdue_filter(page, world, language, width):
    """R-FL-5: red on the car whose APK passed, amber on the one due within 30 days, each
    with its words; "overdue" shows that one car; the page never scrolls sideways."""
    cars = _cars(world)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "fleet-bakker")
    page.goto(f"/lang/{language}")
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto("/my-fleet/list/")
    assert page.locator("html").get_attribute("lang") == language
    words = WORDS[language]
    overdue = page.locator(f'tr[data-plate="{cars[0].plate_display}"] td.apk .label')
    soon = page.locator(f'tr[data-plate="{cars[1].plate_display}"] td.apk .label')
    assert overdue.inner_text().strip() == words["overdue"]
    assert soon.inner_text().strip() == words["soon"]
    assert overdue.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert soon.evaluate("e => getComputedStyle(e).backgroundColor") == AMBER
    for car in cars[2:]:
        assert not page.locator(f'tr[data-plate="{car.plate_display}"] td.apk .label').count()
    scroll_width, inner = page.evaluate(WIDTHS)
    assert scroll_width <= inner, f"page {scroll_width} px wide at {width}"

    page.get_by_role("link", name=words["filter"], exact=True).click()
    page.wait_for_load_state()
    plates = page.locator("table.my-fleet tbody tr[data-plate]")
    assert plates.count() == 1
    assert plates.first.get_attribute("data-plate") == cars[0].plate_display


@pytest.mark.parametrize("width", [1366, 390])
def test_issue15_fleet_car_forms_open_read_only(page, world, width):
    """R-FL-5: the car's page lists its forms; the one from before the fleet shows no
    customer; nothing on the form page can be typed in."""
    advised = _cars(world)[3]
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "fleet-bakker")
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"/my-fleet/show/{advised.id}")
    links = page.locator("a.open-form")
    assert links.count() == 2
    links.nth(1).click()
    page.wait_for_load_state()
    assert page.locator(".before-note").is_visible()
    assert not page.locator(".customer-block").count()
    assert not page.locator(".form-read-only input, .form-read-only textarea").count()
    page.go_back()
    links.nth(0).click()
    page.wait_for_load_state()
    assert page.locator(".customer-block").is_visible()
    scroll_width, inner = page.evaluate(WIDTHS)
    assert scroll_width <= inner, f"page {scroll_width} px wide at {width}"
