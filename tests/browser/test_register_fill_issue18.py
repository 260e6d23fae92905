"""Issue 18: typing a plate on the new-passport form fills the car's fields from the
vehicle register before saving, never over what the user typed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in


def test_issue18_typing_7ztk17_fills_volkswagen_golf_and_its_apk_date(page):
    """Issue 18 (every car filled in): type 7ZTK17, see Volkswagen / Golf, Benzine and the
    APK date fill; a model typed first stays; saved, the profile shows the register's."""
    log_in(page, "garage-jansen")
    page.goto("/passports/new")
    page.fill("#model", "Golf Variant")
    page.type("#plate", "7-ztk-17")
    expect(page.locator("#brand")).to_have_value("Volkswagen")
    expect(page.locator("#apk_expiry")).to_have_value("11-08-2027")
    expect(page.locator("#fuel")).to_have_value("Benzine")
    expect(page.locator("#first_registration")).to_have_value("13-08-2022")
    expect(page.locator("#model")).to_have_value("Golf Variant")  # typed: not overwritten
    expect(page.locator(".register-fill-note")).to_contain_text("voertuigregister")
    # Which fields came from RDW: each filled one says so, the typed model does not.
    marks = page.locator(".register-filled-mark")
    expect(marks).to_have_count(4)
    expect(marks.first).to_have_text("Uit het voertuigregister (RDW)")
    expect(page.locator("#model ~ .register-filled-mark")).to_have_count(0)
    page.fill("#fuel", "LPG")  # typed over: his now, no longer the register's
    expect(marks).to_have_count(3)
    page.fill("#fuel", "")
    # Another plate takes back what the register gave, not what was typed.
    page.fill("#plate", "X-999-ZZ")
    expect(page.locator("#brand")).to_have_value("")
    expect(marks).to_have_count(0)
    expect(page.locator(".register-fill-note")).to_contain_text("kent dit kenteken niet")
    expect(page.locator("#model")).to_have_value("Golf Variant")
    page.fill("#plate", "7ZTK17")
    expect(page.locator("#brand")).to_have_value("Volkswagen")
    page.fill("#email", "k.golf@example.nl")
    page.fill("#last_name", "Golf")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("RDW, gezien op")
    expect(page.locator("body")).to_contain_text("RDW: Golf")


def test_issue18_a_refused_save_keeps_the_filled_values_marked_as_the_registers(page):
    """Issue 18: saved with a wrong e-mail, the form comes back with all typed and filled
    values, and the register's still say so (the typed model does not)."""
    log_in(page, "garage-jansen")
    page.goto("/passports/new")
    page.fill("#model", "Golf Variant")
    page.type("#plate", "7-ztk-17")
    expect(page.locator("#brand")).to_have_value("Volkswagen")
    page.fill("#email", "k.golf@@example")
    page.fill("#last_name", "Golf")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".has-error")).to_have_count(1)
    expect(page.locator("#email")).to_have_value("k.golf@@example")
    expect(page.locator("#model")).to_have_value("Golf Variant")
    expect(page.locator("#apk_expiry")).to_have_value("11-08-2027")
    expect(page.locator(".register-filled-mark")).to_have_count(4)
    expect(page.locator("#model ~ .register-filled-mark")).to_have_count(0)
