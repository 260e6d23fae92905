"""Issue 15, edit in place (R-PP-1, R-PP-7): the profile's Edit turns its details into a
form on the same page; a refusal comes back 422 with the message at the field and all
typed kept; the customer page lists the customer's cars."""

from __future__ import annotations

import re

from sqlalchemy import select

from admin_app.models import AuditLog, Passport


def a_car(world, **filters) -> Passport:
    jansen = world.garage("Autobedrijf Jansen").id
    return next(
        p
        for p in world.passports(garage_id=jansen, **filters)
        if not p.stock_car and not p.fleet_account_id
    )


def form_values(page: str) -> dict:
    """The edit form's text inputs as the browser would post them."""
    form = page[page.index('id="profile-edit"') :]
    form = form[: form.index("</form>")]
    values = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            values[name.group(1)] = value.group(1) if value else ""
    return values


def test_issue15_edit_opens_the_profile_as_a_form_and_saves(world, login_as):
    """R-PP-1: Edit on the profile, the same page with the details as fields; Save."""
    car = a_car(world, state="sent")
    browser = login_as("garage-jansen")
    profile = browser.get(f"/passports/show/{car.id}").get_data(as_text=True)
    assert f'href="/passports/{car.id}/edit-profile"' in profile
    page = browser.get(f"/passports/{car.id}/edit-profile")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Klantprofiel" in text and car.plate_display in text  # the same page
    values = form_values(text)
    assert values["model"] == (car.model or "") and "email" not in values
    saved = browser.post(
        f"/passports/{car.id}/edit-profile", {**values, "model": "Kever", "phone": "0201234567"}
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/show/{car.id}")
    world.session.expire_all()
    car = world.session.get(Passport, car.id)
    assert (car.model, car.owner.phone) == ("Kever", "0201234567")
    shown = browser.get(f"/passports/show/{car.id}").get_data(as_text=True)
    assert "Kever" in shown and "Het profiel is opgeslagen." in shown


def test_issue15_a_refused_field_is_422_with_its_message_and_everything_typed(world, login_as):
    """A bad date, odometer and postcode: 422, each message at its field, nothing stored."""
    car = a_car(world, state="created")
    browser = login_as("garage-jansen")
    values = form_values(browser.get(f"/passports/{car.id}/edit-profile").get_data(as_text=True))
    typed = {
        **values,
        "model": "Getypt model",
        "apk_expiry": "31-02-2027",
        "odometer": "12k",
        "postcode": "12345",
        "city": "Getypte plaats",
    }
    response = browser.post(f"/passports/{car.id}/edit-profile", typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "&#39;31-02-2027&#39; is geen datum" in page
    assert "&#39;12k&#39; is geen kilometerstand" in page
    assert "&#39;12345&#39; is geen Nederlandse postcode" in page
    assert form_values(page)["model"] == "Getypt model"
    assert form_values(page)["city"] == "Getypte plaats"
    assert form_values(page)["apk_expiry"] == "31-02-2027"
    world.session.expire_all()
    assert world.session.get(Passport, car.id).model == car.model


def test_issue15_the_form_says_the_owner_is_shared_by_his_cars(world, login_as):
    """The owner of two cars: name/address changes apply to both, said with the count."""
    email = world.user("eigenaar").email
    car = next(p for p in world.passports(state="activated") if p.owner.email == email)
    page = login_as("garage-jansen").get(f"/passports/{car.id}/edit-profile")
    assert "geldt voor elk van zijn 2 auto" in page.get_data(as_text=True)


def test_issue15_who_may_not_edit_gets_no_button_and_no_form(world, login_as):
    """Support (e-mail corrections only) and another garage: no Edit, and the form refused."""
    car = a_car(world, state="sent")
    support = login_as("support")
    assert "edit-profile" not in support.get(f"/passports/show/{car.id}").get_data(as_text=True)
    # Support has no "write" on passports: the screen is not there for it (as /passports/new).
    assert support.get(f"/passports/{car.id}/edit-profile").status_code == 404
    assert support.post(f"/passports/{car.id}/edit-profile", {"model": "X"}).status_code == 404
    other = login_as("garage-devries")
    assert other.get(f"/passports/{car.id}/edit-profile").status_code == 404
    archived = a_car(world, state="archived")
    jansen = login_as("garage-jansen")
    back = jansen.get(f"/passports/{archived.id}/edit-profile")
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/show/{archived.id}")


def test_issue15_the_edit_is_in_the_history(world, login_as):
    car = a_car(world, state="sent")
    browser = login_as("garage-jansen")
    values = form_values(browser.get(f"/passports/{car.id}/edit-profile").get_data(as_text=True))
    browser.post(f"/passports/{car.id}/edit-profile", {**values, "fuel": "waterstof"})
    entry = world.session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == "passport", AuditLog.record_id == car.id)
        .order_by(AuditLog.id.desc())
    ).first()
    assert set(entry.changes) == {"fuel"}
    page = browser.get(f"/passports/show/{car.id}").get_data(as_text=True)
    assert "waterstof" in page[page.index("passport-history") :]


def test_issue15_the_customer_page_lists_his_cars_with_links(world, login_as):
    """The customer page lists the cars he owns and drives, each a link, within scope."""
    email = world.user("eigenaar").email
    cars = [p for p in world.passports() if p.owner.email == email]
    page = login_as("garage-jansen").get(f"/customers/show/{cars[0].owner_id}")
    text = page.get_data(as_text=True)
    for car in cars:
        assert f'href="/passports/show/{car.id}"' in text and car.plate_display in text
    fleet = world.user("fleet-bakker").fleet_account_id
    driven = next((p for p in world.passports(fleet_account_id=fleet) if p.driver_id), None)
    if driven is not None:
        text = login_as("garage-jansen").get(f"/customers/show/{driven.driver_id}")
        assert f'href="/passports/show/{driven.id}"' in text.get_data(as_text=True)
