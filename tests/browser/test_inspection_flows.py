"""The inspection issue's browser test (R-IN-1, 2, 4, 5, 7): garage-jansen finds a plate
with an invitation, makes an all-OK form, marks two advice items, saves and prints."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from admin_app.models import InspectionInvitation, Passport
from tests.browser.conftest import log_in


def test_find_with_invitation_all_ok_form_two_advice_items_save_and_print(page, world):
    jansen = world.garage("Autobedrijf Jansen")
    passport = world.session.scalars(
        select(Passport)
        .join(InspectionInvitation, InspectionInvitation.passport_id == Passport.id)
        .where(InspectionInvitation.garage_id == jansen.id)
        .order_by(Passport.id.desc())
    ).first()
    log_in(page, "garage-jansen")
    page.goto("/inspections/")
    page.fill("input[name=q]", passport.plate_display.lower().replace("-", " "))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.click(f"#new-all_ok-{passport.id}")
    page.wait_for_load_state()
    assert "Concept: nog niet opgeslagen" in page.content()
    statuses = page.locator("input[type=radio][value=advice]")
    statuses.nth(3).check()
    statuses.nth(17).check()
    descriptions = page.locator("input[name=advice_description]")
    prices = page.locator("input[name=advice_price]")
    descriptions.nth(0).fill("Remblokken voor vervangen")
    prices.nth(0).fill("189,95")
    descriptions.nth(1).fill("Ruitenwisserbladen")
    prices.nth(1).fill("34,50")
    page.click("#save-form")
    page.wait_for_load_state()
    content = page.content()
    assert "Het formulier is opgeslagen" in content
    assert "Versie 1" in content and "€ 224,45" in content
    assert page.locator("input[type=radio][value=advice]:checked").count() == 2
    href = page.get_attribute("#print-form", "href")
    response = page.request.get(href)
    assert response.status == 200 and response.body().startswith(b"%PDF")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).split()
    )
    assert passport.plate_display in text and "€ 224,45" in text
