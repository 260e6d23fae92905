"""The fleet manager's dashboard and his cars' inspection forms, on screen (issue 15, R-FL-5)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from admin_app.domain.plates import display_plate
from admin_app.models import FleetAccount, InspectionForm, Passport, Recall


def bakker(world):
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.name == "Bouwbedrijf Bakker")
    ).one()
    return fleet, world.passports(fleet_account_id=fleet.id)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-plate="([^"]+)"', html)


def row(html: str, plate: str) -> str:
    start = html.index(f'<tr data-plate="{display_plate(plate)}"')
    return html[start : html.index("</tr>", start)]


def test_issue15_demo_fleet_has_each_mark_relative_to_the_load_day(world):
    """R-FL-5, SPEC demo data: of Bakker's 5 cars one APK passed, one due within 30 days,
    one open recall, one open advice."""
    s = world.session
    _, cars = bakker(world)
    today = dt.date.today()
    assert len(cars) == 5
    assert sum(c.apk_expiry < today for c in cars) == 1
    assert sum(today <= c.apk_expiry <= today + dt.timedelta(days=30) for c in cars) == 1
    recalls = s.scalars(
        select(Recall.plate).where(Recall.plate.in_([c.plate for c in cars]), Recall.status == "O")
    ).all()
    assert len(set(recalls)) == 1
    advised = s.scalars(
        select(InspectionForm.passport_id).where(
            InspectionForm.passport_id.in_([c.id for c in cars]), InspectionForm.version > 0
        )
    ).all()
    assert set(advised) == {cars[3].id}
    assert all(c.fleet_linked_at is not None for c in cars)


def test_issue15_dashboard_shows_marks_advice_and_recalls_in_words(login_as, world):
    """R-FL-5: red "verlopen", amber "binnen 30 dagen", advice and recall columns; Dutch
    and English."""
    _, cars = bakker(world)
    browser = login_as("fleet-bakker")
    html = browser.get("/my-fleet/list/").get_data(as_text=True)
    assert sorted(rows(html)) == sorted(c.plate_display for c in cars)
    overdue = row(html, cars[0].plate)
    assert "label-danger" in overdue and "verlopen" in overdue
    soon = row(html, cars[1].plate)
    assert "label-warning" in soon and "binnen 30 dagen" in soon
    assert "RDW2025201" in row(html, cars[2].plate)
    assert "Banden voor vervangen" in row(html, cars[3].plate)
    assert "Openstaand advies" in html and "Openstaande terugroepactie" in html
    english = browser.get("/my-fleet/list/?_l_=en").get_data(as_text=True)
    assert "within 30 days" in row(english, cars[1].plate)
    assert "Open advice" in english


def test_issue15_dashboard_filters_and_sorts(login_as, world):
    """R-FL-5: filter overdue / within 30 days / advice / recall, sort by the dates."""
    _, cars = bakker(world)
    browser = login_as("fleet-bakker")

    def shown(query: str) -> list[str]:
        response = browser.get(f"/my-fleet/list/?{query}")
        assert response.status_code == 200
        return rows(response.get_data(as_text=True))

    assert shown("show=overdue") == [cars[0].plate_display]
    assert shown("show=soon") == [cars[1].plate_display]
    assert shown("show=recall") == [cars[2].plate_display]
    assert shown("show=advice") == [cars[3].plate_display]
    assert shown("sort=apk_expiry")[:2] == [cars[0].plate_display, cars[1].plate_display]
    # Bad input is no 500: the default list.
    assert sorted(shown("show=bogus&sort=x&page=abc")) == sorted(c.plate_display for c in cars)


def test_issue15_dashboard_pages_50_cars(login_as, world):
    """R-FL-5: 50 cars a page, with paging links."""
    s = world.session
    fleet, _ = bakker(world)
    ids = s.scalars(
        select(Passport.id).where(
            Passport.garage_id == fleet.garage_id,
            Passport.fleet_account_id.is_(None),
            Passport.state != "archived",
        )
    ).all()[:55]
    s.execute(update(Passport).where(Passport.id.in_(ids)).values(fleet_account_id=fleet.id))
    s.commit()
    browser = login_as("fleet-bakker")
    first = browser.get("/my-fleet/list/").get_data(as_text=True)
    second = browser.get("/my-fleet/list/?page=2").get_data(as_text=True)
    assert len(rows(first)) == 50 and len(rows(second)) == 10
    assert not set(rows(first)) & set(rows(second))
    assert "page=2" in first


def test_issue15_fleet_manager_reads_his_cars_forms_read_only(login_as, world):
    """R-FL-5: the car's page lists its forms; one made in the fleet shows the customer
    block, one made before only date, garage and results; nothing to edit."""
    s = world.session
    _, cars = bakker(world)
    advised = cars[3]
    forms = s.scalars(
        select(InspectionForm)
        .where(InspectionForm.passport_id == advised.id)
        .order_by(InspectionForm.inspection_date.desc())
    ).all()
    browser = login_as("fleet-bakker")
    page = browser.get(f"/my-fleet/show/{advised.id}").get_data(as_text=True)
    assert page.count('class="open-form"') == 2
    assert "voordat de auto in uw wagenpark kwam" in page
    full = browser.get(f"/my-fleet/{advised.id}/inspections/{forms[0].id}")
    html = full.get_data(as_text=True)
    assert full.status_code == 200
    assert "customer-block" in html and "Bouwbedrijf Bakker" in html and "€ 298,00" in html
    assert "<form" not in html.split('class="form-read-only"')[1]
    before = browser.get(f"/my-fleet/{advised.id}/inspections/{forms[1].id}")
    html = before.get_data(as_text=True)
    assert before.status_code == 200
    assert "J. de Groot" not in html and "j.degroot@example.nl" not in html
    assert "customer-block" not in html and "Autobedrijf Jansen" in html
    assert "/pdf" not in html


def test_issue15_fleet_manager_never_reaches_other_cars_forms(login_as, world):
    """R-FL-5, R-SEC-1: another car's form through his car's URL, or a car outside his
    fleet, is 404."""
    s = world.session
    _, cars = bakker(world)
    elsewhere = s.scalars(
        select(InspectionForm).where(
            InspectionForm.version > 0, InspectionForm.passport_id != cars[3].id
        )
    ).first()
    browser = login_as("fleet-bakker")
    assert browser.get(f"/my-fleet/{cars[3].id}/inspections/{elsewhere.id}").status_code == 404
    assert (
        browser.get(f"/my-fleet/{elsewhere.passport_id}/inspections/{elsewhere.id}").status_code
        == 404
    )
    garage = login_as("garage-jansen")
    assert garage.get(f"/my-fleet/{cars[3].id}/inspections/{elsewhere.id}").status_code == 404


def test_issue15_owner_sees_forms_of_his_time_under_my_vehicles(login_as, world):
    """R-FL-5: "Mijn voertuigen" lists the forms made while the car was his, read-only."""
    s = world.session
    car = next(
        p for p in world.passports(state="activated") if p.owner.email == "eigenaar@example.nl"
    )
    garage = login_as("garage-jansen")
    response = garage.post(
        "/inspections/new",
        data={
            "kind": "customer",
            "passport_id": car.id,
            "inspector": "Ali",
            "inspection_date": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 302
    form_id = int(re.search(r"/inspections/(\d+)", response.headers["Location"])[1])
    page = garage.get(f"/inspections/{form_id}").get_data(as_text=True)
    assert garage.post(
        f"/inspections/{form_id}", data={"inspector": "Ali", "save": "1"}
    ).status_code in (200, 302)
    s.expire_all()
    assert s.get(InspectionForm, form_id).version == 1, page[:200]
    owner = login_as("eigenaar")
    html = owner.get(f"/my-vehicles/show/{car.id}").get_data(as_text=True)
    assert f"/my-vehicles/{car.id}/inspections/{form_id}" in html
    form = owner.get(f"/my-vehicles/{car.id}/inspections/{form_id}")
    assert form.status_code == 200 and "customer-block" in form.get_data(as_text=True)
    other = s.scalars(select(InspectionForm).where(InspectionForm.passport_id != car.id)).first()
    assert owner.get(f"/my-vehicles/{car.id}/inspections/{other.id}").status_code == 404


def test_issue15_fleet_managers_home_page_stays_his_dashboard(login_as, world):
    """R-FL-5: the fleet manager's home page is his dashboard."""
    response = login_as("fleet-bakker").get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my-fleet/list/")
