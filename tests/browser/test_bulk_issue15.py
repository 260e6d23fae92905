"""Issue 15's browser test: filter the passport list, select all that match, send them in
bulk, confirm with the count, and read each row's outcome on the task's page (R-PP-4)."""

from __future__ import annotations

from admin_app.models import Passport
from tests.browser.conftest import log_in


def test_issue15_bulk_send_of_filtered_rows(page, world):
    unsent = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="created")
    assert unsent
    log_in(page, "garage-jansen")
    # The list filtered on "not sent yet", as the home page's link opens it.
    page.goto("/passports/list/?_flt_0_state=created")
    page.check("#select-all-matching")
    page.click("button.bulk-send")
    page.wait_for_load_state()
    count = page.locator(".bulk-count").inner_text()
    assert count == f"AutoPaspoorten in deze selectie: {len(unsent)}"
    assert page.locator(".bulk-selection").inner_text() == (
        f"Alle {len(unsent)} die voldoen aan: Status: Niet verzonden"
    )
    page.click("#bulk-confirm")
    page.wait_for_load_state()
    assert "/tasks/show/" in page.url
    assert page.locator(".task-title").inner_text().startswith("AutoPaspoorten versturen")
    outcomes = page.locator(".task-row-done td:nth-child(2)").all_inner_texts()
    assert outcomes == ["verzonden"] * len(unsent)
    world.session.expire_all()
    assert all(world.session.get(Passport, p.id).state == "sent" for p in unsent)
