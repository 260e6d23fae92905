"""Issue 19 (R-DR-2): Support erases a customer in the browser; the scan finds nothing."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import Customer
from tests.browser.conftest import log_in
from tests.services.test_erase_issue19 import KAREL, found_anywhere, full_history


def test_issue19_support_erases_the_person_and_the_scan_finds_nothing(page, world, acting_as):
    """R-DR-2: from the customer's page, on a phone-wide screen: the form, the confirm step,
    "Definitief verwijderen"; then no text column of any table holds his name, e-mail,
    phone, street or postcode."""
    full_history(world, acting_as)
    customer_id = world.session.scalars(
        select(Customer.id).where(Customer.email == KAREL["email"]).order_by(Customer.id)
    ).first()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "support")
    page.goto(f"/customers/show/{customer_id}")
    page.click("text=Verwijderen (AVG)")
    page.select_option("#which", "person")
    page.fill("#requested_on", "2026-12-01")
    page.fill("#reason", "Verzoek van de klant per brief")
    page.click("button[type=submit]")
    page.get_by_text("Wat blijft", exact=True).wait_for()
    page.click("text=Definitief verwijderen")
    page.locator(".alert-success").wait_for()
    world.session.expire_all()
    assert found_anywhere(world.session) == []
