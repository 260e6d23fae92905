"""Issue 14 in Chromium: a refused inspection form keeps what was typed (R-IN-4), "Nu
versturen" goes where the user clicked (R-PP-4), a waiting transfer is cancelled with its
button (R-TR-2)."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import Passport, Transfer
from tests.browser.conftest import log_in


def test_issue14_refused_inspection_form_comes_back_as_typed(page, world):
    """The issue's steps: ten checkpoints OK, one urgent with a remark, inspector Kees Test,
    advice "Remlamp vervangen" at 12,5O: all of it is still there, the price marked."""
    jansen = world.garage("Autobedrijf Jansen")
    passport = world.passports(garage_id=jansen.id, state="activated")[0]
    log_in(page, "garage-jansen")
    page.goto(f"/inspections/?invited=0&q={passport.plate_display}")
    page.click(f"#new-customer-{passport.id}")
    page.wait_for_load_state()
    radios = page.locator("input[type=radio][value=ok]")
    for index in range(10):
        radios.nth(index).check()
    urgent = page.locator("input[type=radio][value=urgent]").nth(10)
    urgent.check()
    name = urgent.get_attribute("name")
    remark = f"input[name=remark-{name.split('-', 1)[1]}]"
    page.fill(remark, "Remleiding lekt")
    page.fill("input[name=inspector]", "Kees Test")
    page.locator("input[name=advice_description]").first.fill("Remlamp vervangen")
    page.locator("input[name=advice_price]").first.fill("12,5O")
    page.click("#save-form")
    page.wait_for_load_state()
    assert "'12,5O' is geen bedrag" in page.inner_text("body")
    assert page.input_value("input[name=inspector]") == "Kees Test"
    assert page.locator("input[type=radio][value=ok]:checked").count() == 10
    assert page.locator(f"input[name={name}][value=urgent]").is_checked()
    assert page.input_value(remark) == "Remleiding lekt"
    assert page.locator("input[name=advice_description]").first.input_value() == "Remlamp vervangen"
    price = page.locator("input[name=advice_price]").first
    assert price.input_value() == "12,5O"
    marked = page.locator("td.has-error")
    assert marked.count() == 1 and "geen bedrag" in marked.inner_text()
    # Corrected, the same page saves.
    price.fill("12,50")
    page.click("#save-form")
    page.wait_for_load_state()
    assert "Het formulier is opgeslagen" in page.inner_text(
        "body"
    ) or "opgeslagen" in page.inner_text("body")
    assert page.input_value("input[name=inspector]") == "Kees Test"


def test_issue14_send_now_in_the_leave_dialog_goes_where_clicked(page, world):
    """R-PP-4: leaving an unsent profile by a menu link asks; "Nu versturen" sends the
    passport and then opens the page of the link that was clicked."""
    created = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="created")[0]
    log_in(page, "garage-jansen")
    page.goto(f"/passports/show/{created.id}")
    page.click("a[href='/passports/list/']")
    dialog = page.locator("#leave-dialog")
    dialog.wait_for(state="visible")
    page.click("#leave-yes")
    page.wait_for_url("**/passports/list/**")
    assert "verstuurd" in page.inner_text("body")
    world.session.expire_all()
    assert world.session.get(Passport, created.id).state == "sent"


def test_issue14_garage_cancels_a_waiting_transfer_with_its_button(page, world):
    """R-TR-2: the cancel button on the profile, confirmed in the browser's dialog."""
    pending = world.session.scalars(
        select(Transfer).where(
            Transfer.state == "pending",
            Transfer.garage_id == world.garage("Autobedrijf Jansen").id,
        )
    ).one()
    log_in(page, "garage-jansen")
    page.goto(f"/passports/show/{pending.passport_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-transfer-form button")
    page.wait_for_load_state()
    assert "De overdracht is geannuleerd" in page.inner_text("body")
    assert page.locator("#cancel-transfer-form").count() == 0
    world.session.expire_all()
    assert world.session.get(Transfer, pending.id).state == "cancelled"
