"""Issue 18: an owner (on a phone, in Dutch) and a fleet manager (on a laptop, in English)
subscribe to the calendar of their cars, renew the address and stop it."""

from __future__ import annotations

from tests.browser.conftest import log_in


def _within(page, locator, width):
    for button in locator.locator(".btn").all():
        box = button.bounding_box()
        assert box and box["x"] + box["width"] <= width, button.inner_text()


def test_issue18_owner_subscribes_on_a_phone_in_dutch(page):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "eigenaar")
    page.goto("/my-vehicles/list/")
    panel = page.locator(".calendar-feed")
    panel.locator("text=Datums in uw eigen agenda").wait_for()
    _within(page, panel, 390)
    panel.get_by_role("button", name="Toevoegen aan mijn agenda").click()
    page.locator("text=Kopieer het adres nu").wait_for()
    address = page.input_value("#calendar-address")
    assert "/calendar/" in address and address.endswith(".ics")
    assert page.get_attribute("#calendar-open", "href").startswith("webcal://")
    _within(page, page.locator(".calendar-made"), 390)
    path = "/calendar/" + address.rsplit("/calendar/", 1)[1]
    feed = page.request.get(path)
    assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text()
    page.click("text=Klaar")
    panel.locator("text=Uw agenda-adres is gemaakt op").wait_for()
    assert address not in page.content()  # shown once
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Nieuw adres").click()
    page.locator("#calendar-address").wait_for()
    assert page.input_value("#calendar-address") != address
    assert page.request.get(path).status == 404
    page.click("text=Klaar")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Agenda stoppen").click()
    page.locator("text=Het agenda-adres is gestopt").wait_for()
    assert page.locator(".calendar-feed >> text=Toevoegen aan mijn agenda").is_visible()


def test_issue18_fleet_manager_subscribes_in_english(page):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "fleet-bakker")
    page.goto("/lang/en")  # the language menu: the session keeps it for the posts too
    page.goto("/my-fleet/list/")
    panel = page.locator(".calendar-feed")
    panel.locator("text=Dates in your own calendar").wait_for()
    panel.get_by_role("button", name="Add to my calendar").click()
    page.locator("text=Copy the address now").wait_for()
    page.click("#calendar-copy")
    page.click("text=Done")
    page.locator(".calendar-feed >> text=Your calendar address was made on").wait_for()
    assert "/my-fleet/" in page.url
    page.goto("/lang/nl")
