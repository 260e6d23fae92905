"""Issue 19, R-DR-2: Support's erase screen on the customer's page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.models import Customer, Erasure
from tests.api.test_erase_api_issue19 import quiet_customer
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(
    DB_KIND != "sqlite", reason="screens; the service is tested on both"
)


def test_issue19_support_erases_through_form_and_confirm_step(world, login_as):
    """R-DR-2: the page offers Erase to Support; the form, the confirm step (what happens,
    what stays), back to the form as typed, then the erase."""
    customer = quiet_customer(world)
    support = login_as("support")
    page = support.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert f"/customers/{customer.id}/erase" in page
    form = {"which": "customer", "requested_on": "2026-12-01", "reason": "Brief van de garage"}
    confirm = support.post(f"/customers/{customer.id}/erase", data=form)
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Wat er gebeurt" in text and "Wat blijft" in text
    back = support.post(f"/customers/{customer.id}/erase", data={**form, "back": "1"})
    assert "Brief van de garage" in back.get_data(as_text=True)
    # The confirm page's own form, as a browser sends it: every input in page order (the
    # first of a repeated name wins, as WTForms reads it).
    sent = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', text):
        sent.setdefault(name, value)
    assert sent["confirmed"] == "yes" and sent["reason"] == "Brief van de garage"
    done = support.post(f"/customers/{customer.id}/erase", data=sent, csrf=False)
    assert done.status_code == 302
    world.session.expire_all()
    assert world.session.get(Customer, customer.id).last_name == "verwijderd"
    recorded = world.session.scalars(select(Erasure)).one()
    assert recorded.reason == "Brief van de garage"


def test_issue19_bad_input_and_refusals_keep_what_was_typed(world, login_as):
    """R-DR-2: a date in the future is named on its field; nothing typed is lost."""
    customer = quiet_customer(world)
    support = login_as("support")
    form = {"which": "person", "requested_on": "2999-01-01", "reason": "Mail van 3 december"}
    response = support.post(f"/customers/{customer.id}/erase", data=form)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "niet in de toekomst" in text and "Mail van 3 december" in text
    assert world.session.get(Customer, customer.id).last_name != "verwijderd"


@pytest.mark.parametrize("username", ["garage-jansen", "admin"])
def test_issue19_no_erase_for_others(world, login_as, username):
    """R-DR-2: only Support sees and may use the erase."""
    customer = quiet_customer(world)
    browser = login_as(username)
    page = browser.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert f"/customers/{customer.id}/erase" not in page
    opened = browser.get(f"/customers/{customer.id}/erase")
    assert opened.status_code in (302, 403, 404)
    form = {"which": "customer", "requested_on": "2026-12-01", "reason": "x", "confirmed": "yes"}
    browser.post(f"/customers/{customer.id}/erase", data=form)
    world.session.expire_all()
    assert world.session.get(Customer, customer.id).last_name != "verwijderd"


def test_issue19_use_the_erase_form_names_the_garage_of_the_one_customer_choice(world, login_as):
    """Support is at no garage: "this garage" in the form's choice said nothing before the
    confirm step; the choice names the customer's garage."""
    customer = quiet_customer(world)
    support = login_as("support")
    page = support.get(f"/customers/{customer.id}/erase").get_data(as_text=True)
    assert f"Alleen deze klant, bij {customer.garage.name}" in page
    assert "De persoon, bij elke garage, met de login" in page


def test_issue19_use_the_confirm_step_says_inspection_forms_as_the_menu_does(world, login_as):
    """The menu says "Inspectieformulieren": the confirm step named them "keuring…"."""
    customer = quiet_customer(world)
    support = login_as("support")
    form = {"which": "customer", "requested_on": "2026-12-01", "reason": "Brief van de garage"}
    text = support.post(f"/customers/{customer.id}/erase", data=form).get_data(as_text=True)
    assert "inspectieformulieren en hun versies" in text and "inspectieresultaten" in text
    assert "keuring" not in text and "deze verwijdering" in text


def test_issue19_use_the_person_erase_counts_garages_without_garage_s(world, login_as):
    """The step said "bij 1 garage(s)", a form letter: one garage and several read apart."""
    customer = quiet_customer(world)
    support = login_as("support")
    form = {"which": "person", "requested_on": "2026-12-01", "reason": "Zijn eigen verzoek"}
    text = support.post(f"/customers/{customer.id}/erase", data=form).get_data(as_text=True)
    assert "Klantgegevens die worden verwijderd: 1, bij één garage." in text
    assert "garage(s)" not in text


def test_issue19_use_an_erased_customers_page_says_so_and_offers_no_export(world, login_as):
    """After the erase the page offered "Gegevens exporteren" of "verwijderd-…@…invalid"
    and said nothing of the erase once the flash was gone."""
    customer = quiet_customer(world)
    support = login_as("support")
    form = {"which": "customer", "requested_on": "2026-12-01", "reason": "Brief van de garage"}
    support.post(f"/customers/{customer.id}/erase", data={**form, "confirmed": "yes"})
    world.session.expire_all()
    assert world.session.get(Customer, customer.id).last_name == "verwijderd"
    page = support.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert "Deze klant is verwijderd (AVG)" in page
    assert "data-export-ask" not in page and f"/customers/{customer.id}/erase" not in page
