"""R-FL-1, 3, 4 on the garage's screens."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import FleetAccount, Passport


def test_r_fl_4_fleet_account_page_lists_its_plates_with_links(world, login_as):
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Autobedrijf Jansen").id)
    ).one()
    linked = world.passports(fleet_account_id=fleet.id)
    browser = login_as("garage-jansen")
    home = browser.get("/").get_data(as_text=True)
    assert "Bouwbedrijf Bakker" in home and f"/fleet-accounts/show/{fleet.id}" in home
    page = browser.get(f"/fleet-accounts/show/{fleet.id}").get_data(as_text=True)
    for car in linked:
        assert f"/passports/show/{car.id}" in page and car.plate_display in page


def test_r_fl_1_and_3_garage_creates_a_fleet_and_links_a_car_by_name(world, login_as):
    managers = {f.manager_passport_id for f in world.session.scalars(select(FleetAccount))}
    jansen = world.garage("Autobedrijf Jansen")
    free = [
        p
        for p in world.passports(garage_id=jansen.id, state="activated")
        if not p.stock_car and not p.fleet_account_id and p.id not in managers
    ]
    manager, car = free[0], free[1]
    browser = login_as("garage-jansen")
    profile = browser.get(f"/passports/show/{manager.id}").get_data(as_text=True)
    assert "Een wagenpark aanmaken dat deze eigenaar beheert" in profile
    response = browser.post(
        f"/passports/{manager.id}/fleet-account",
        {"name": "Schilder BV", "email": "wagenpark@schilder.nl"},
    )
    assert response.status_code == 302
    page = browser.get(f"/passports/show/{car.id}").get_data(as_text=True)
    assert '<option value="Schilder BV">' in page  # the autocomplete: own fleets only
    assert "Transport Visser" not in page
    browser.post(f"/passports/{car.id}/fleet", {"fleet_name": "schilder bv"})
    world.session.expire_all()
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.name == "Schilder BV")
    ).one()
    assert world.session.get(Passport, car.id).fleet_account_id == fleet.id
    browser.post(f"/passports/{car.id}/fleet", {"fleet_name": ""})
    world.session.expire_all()
    assert world.session.get(Passport, car.id).fleet_account_id is None
