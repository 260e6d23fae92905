"""Issue 15 in Chromium (R-PP-1): open a profile, Edit, change model and phone with one
bad date: the message at the field, all typed kept; fixed, saved: the new values on the
profile and an entry in its history. Dutch and English, 1366 and 390 px wide."""

from __future__ import annotations

import pytest

from admin_app.models import Passport
from tests.browser.conftest import log_in
from tests.conftest import DB_KIND

WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
TEXTS = {
    "nl": {
        "edit": "Wijzigen",
        "bad_date": "'31-02-2027' is geen datum",
        "saved": "Het profiel is opgeslagen.",
        "save": "Opslaan",
    },
    "en": {
        "edit": "Edit",
        "bad_date": "'31-02-2027' is not a date",
        "saved": "The profile is saved.",
        "save": "Save",
    },
}


def _set_language(page, language):
    # FAB's language switch keeps the choice in the session, as a user switches.
    page.goto(f"/lang/{language}")
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("language", "width"),
    # The whole flow in both languages and widths costs ~4 runs; the layout does not
    # depend on the database, so the phone and English runs are SQLite only.
    [("nl", 1366)] + ([("en", 1366), ("nl", 390), ("en", 390)] if DB_KIND == "sqlite" else []),
)
def test_issue15_edit_in_place_in_the_browser(page, world, language, width):
    jansen = world.garage("Autobedrijf Jansen").id
    car = next(
        p
        for p in world.passports(garage_id=jansen, state="sent")
        if not p.stock_car and not p.fleet_account_id
    )
    words = TEXTS[language]
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    log_in(page, "garage-jansen")
    _set_language(page, language)
    page.goto(f"/passports/show/{car.id}")
    page.get_by_role("link", name=words["edit"], exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#profile-edit").is_visible()
    assert car.plate_display in page.inner_text(".profile-plate")  # still the profile

    page.fill("#model", "Kever 1300")
    page.fill("#phone", "06-11223344")
    page.fill("#apk_expiry", "31-02-2027")
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.wait_for_load_state()
    apk = page.locator(".form-group.has-error")
    assert apk.count() == 1 and words["bad_date"] in apk.inner_text()
    assert page.input_value("#model") == "Kever 1300"
    assert page.input_value("#phone") == "06-11223344"
    assert page.input_value("#apk_expiry") == "31-02-2027"
    scroll_width, inner = page.evaluate(WIDTHS)
    assert scroll_width <= inner, f"{scroll_width} px wide at {inner}"
    world.session.expire_all()
    assert world.session.get(Passport, car.id).model == car.model  # nothing stored

    page.fill("#apk_expiry", "28-02-2027")
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert words["saved"] in body
    assert page.locator("#profile-edit").count() == 0
    details = page.inner_text(".table")  # the profile's details block
    assert "Kever 1300" in details and "28-02-2027" in details
    history = page.inner_text(".passport-history")
    assert "Kever 1300" in history and "06-11223344" in history
    scroll_width, inner = page.evaluate(WIDTHS)
    assert scroll_width <= inner, f"{scroll_width} px wide at {inner}"
