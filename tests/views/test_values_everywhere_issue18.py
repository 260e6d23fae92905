"""Issue 18, every read of a car's values through one service (services/vehicle_values.py):
a car whose brand, model and APK expiry nobody typed shows the vehicle register's on every
screen, file and API answer that shows them — the fleet dashboard and its file, the fleet
account's cars, "Mijn voertuigen" and the owner's home, the customer's cars, the inspection
pages and print, the recall list and its file, the API's order by APK expiry — and a typed
value wins where typed (the later APK date counts, R-FL-5, R-IN-3).

The demo register knows 7ZTK17 as a Volkswagen Golf with APK expiry 11-08-2027; none of the
demo passports has that plate, so each test gives it to one of them with nothing typed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import Customer, OutboxMessage, Passport, Recall
from admin_app.services import fleets, inspections
from tests.conftest import DB_KIND
from tests.downloads import csv_rows
from tests.mails import mail_text

GOLF_APK = dt.date(2027, 8, 11)
# Screens and words: SQLite is enough (the SQL they run is the service's, tested on both).
words_only = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens and words: SQLite only")


def untyped_golf(world, car: Passport) -> Passport:
    """``car`` as a passport made for the register's 7ZTK17 with no vehicle value typed."""
    car.plate = "7ZTK17"
    car.brand = car.model = car.fuel = car.apk_expiry = car.first_registration = None
    world.session.commit()
    return car


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row_of(page: str, plate_display: str) -> str:
    """The words of the table row (or card) that holds the plate."""
    rows = [row for row in re.split(r"<tr[ >]", page) if plate_display in row]
    assert rows, f"{plate_display} not on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0]))


def _cells(row_html: str) -> list[str]:
    """The words of each cell of one table row."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row_html, flags=re.S)
    ]


def _bakker_cars(world) -> list[Passport]:
    return world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)


@words_only
def test_issue18_fleet_dashboard_its_file_and_car_page_show_the_registers_values(world, login_as):
    """R-FL-5 / issue 18: the fleet manager's dashboard row, its CSV and the car's page
    read Volkswagen Golf and the register's APK date for a car typed without them; the
    garage's fleet account page too. A typed model wins."""
    car = untyped_golf(world, _bakker_cars(world)[0])
    fleet = login_as("fleet-bakker")
    row = _row_of(fleet.get("/my-fleet/list/").get_data(as_text=True), "7-ZTK-17")
    assert "Volkswagen Golf" in row and "11-08-2027" in row
    (line,) = [r for r in csv_rows(fleet.get("/my-fleet/export/csv")) if "7-ZTK-17" in r]
    assert "Volkswagen" in line and "Golf" in line and "11-08-2027" in line
    page = _text(fleet.get(f"/my-fleet/show/{car.id}"))
    assert "Volkswagen" in page and "Golf" in page and "11-08-2027" in page

    garage = login_as("garage-jansen")
    account = garage.get(f"/fleet-accounts/show/{car.fleet_account_id}").get_data(as_text=True)
    row = _row_of(account, "7-ZTK-17")
    assert "Volkswagen Golf" in row and "11-08-2027" in row

    car.model = "Golf Variant"
    world.session.commit()
    row = _row_of(fleet.get("/my-fleet/list/").get_data(as_text=True), "7-ZTK-17")
    assert "Volkswagen Golf Variant" in row


def test_issue18_fleet_dashboard_marks_filters_and_sorts_by_the_apk_that_counts(world, acting_as):
    """R-FL-5 / issue 18: a car typed with last year's APK date whose register date is
    later is not overdue, and sorts by the register's date; typed later, the typed counts."""
    s = world.session
    cars = _bakker_cars(world)
    golf = untyped_golf(world, cars[0])
    golf.apk_expiry = dt.date(2025, 1, 1)  # typed long ago; RDW saw a later APK
    others = cars[1:]
    for index, other in enumerate(others):
        other.apk_expiry = GOLF_APK - dt.timedelta(days=10 - index)
    s.commit()
    fid = golf.fleet_account_id
    today = dt.date(2026, 12, 6)
    with acting_as("fleet-bakker"):
        overdue = fleets.fleet_dashboard(s, fid, today=today, show="overdue")
        assert golf.id not in [row.passport.id for row in overdue.rows]
        by_apk = fleets.fleet_dashboard(s, fid, today=today, sort="apk_expiry")
        (row,) = [row for row in by_apk.rows if row.passport.id == golf.id]
        assert row.car.apk_expiry.value == GOLF_APK and row.apk_status is None
        assert by_apk.rows[len(others)].passport.id == golf.id  # after the 4 earlier dates
    golf.apk_expiry = dt.date(2028, 1, 1)  # a test done today, not yet in RDW's files
    s.commit()
    with acting_as("fleet-bakker"):
        by_apk = fleets.fleet_dashboard(s, fid, today=today, sort="apk_expiry")
        assert by_apk.rows[-1].passport.id == golf.id
        assert by_apk.rows[-1].car.apk_expiry.value == dt.date(2028, 1, 1)


def _owner_car(world) -> Passport:
    owner = world.session.scalars(
        select(Customer).where(Customer.email == world.user("eigenaar").email)
    ).first()
    return next(p for p in world.passports(owner_id=owner.id) if p.state == "activated")


@words_only
def test_issue18_my_vehicles_and_the_owners_home_show_the_registers_values(world, login_as):
    """Issue 18: "Mijn voertuigen" (list and car page) and the owner's home page read the
    register's brand, model, fuel and APK date for his car typed without them."""
    car = untyped_golf(world, _owner_car(world))
    owner = login_as("eigenaar")
    row = _row_of(owner.get("/my-vehicles/list/").get_data(as_text=True), "7-ZTK-17")
    assert "Volkswagen" in row and "Golf" in row and "11-08-2027" in row
    page = _text(owner.get(f"/my-vehicles/show/{car.id}"))
    assert "Volkswagen" in page and "Golf" in page and "Benzine" in page
    assert "11-08-2027" in page and "13-08-2022" in page
    row = _row_of(owner.get("/").get_data(as_text=True), "7-ZTK-17")
    assert "Volkswagen" in row and "Golf" in row and "11-08-2027" in row


@words_only
def test_issue18_the_customer_page_lists_his_car_as_the_register_knows_it(world, login_as):
    """Issue 18: the customer profile's cars read brand and model as they count."""
    car = untyped_golf(world, _owner_car(world))
    page = login_as("garage-jansen").get(f"/customers/show/{car.owner_id}")
    row = _row_of(page.get_data(as_text=True), "7-ZTK-17")
    assert "Volkswagen" in row and "Golf" in row


def _jansen_car(world) -> Passport:
    garage = world.garage("Autobedrijf Jansen")
    return world.passports(garage_id=garage.id, state="activated", fleet_account_id=None)[1]


def test_issue18_a_new_inspection_form_holds_the_registers_car_and_apk_date(world, acting_as, app):
    """R-IN-3 / issue 18: a form made for a car typed without brand, model or APK reads
    the register's, on the form, its print and among the dates; saving it as shown types
    nothing into the passport, a date changed on the form is typed."""
    s = world.session
    car = untyped_golf(world, _jansen_car(world))
    day = dt.date(2027, 6, 1)  # the APK date falls within the form's 4 months
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            form = inspections.create_draft(
                s,
                kind="customer",
                actor=acting.actor,
                inspector="Piet Monteur",
                inspection_date=day,
                passport_id=car.id,
            )
        assert (form.content["vehicle"]["brand"], form.content["vehicle"]["model"]) == (
            "Volkswagen",
            "Golf",
        )
        assert form.content["dates"]["apk_expiry"] == GOLF_APK.isoformat()
        printed = inspections.print_context(s, form)
        assert {d.name: d.date for d in printed["dates"]}["apk_expiry"] == GOLF_APK
        html = inspections.print_html(s, form)
        assert "Volkswagen Golf" in html
        with unit_of_work(s):
            inspections.save_form(s, form.id, actor=acting.actor, today=day)
        assert s.get(Passport, car.id).apk_expiry is None  # still the register's
        later = dt.date(2028, 2, 1)
        with unit_of_work(s):
            inspections.update_form(
                s,
                form.id,
                {"dates": {"apk_expiry": later.isoformat()}},
                actor=acting.actor,
                today=day,
            )
            inspections.save_form(s, form.id, actor=acting.actor, today=day)
        assert s.get(Passport, car.id).apk_expiry == later


@words_only
def test_issue18_finding_a_car_for_a_form_names_it_as_the_register_knows_it(world, login_as):
    """R-IN-1 / issue 18: the inspection search's result reads "7-ZTK-17 Volkswagen Golf"."""
    untyped_golf(world, _jansen_car(world))
    page = login_as("garage-jansen").get("/inspections/?invited=0&q=7ZTK17")
    assert "7-ZTK-17 Volkswagen Golf" in _text(page)


def test_issue18_the_api_orders_by_the_apk_expiry_that_counts(world, api_client):
    """Issue 18 / R-X-4: `order_column:apk_expiry` sorts by the APK expiry the result
    shows (the later of typed and register), so a car typed with an old date whose
    register date is later sorts by the register's; the page's order and fields agree."""
    car = untyped_golf(world, _jansen_car(world))
    car.apk_expiry = dt.date(2020, 1, 1)  # typed long ago; RDW saw a later APK
    world.session.commit()
    api = api_client("garage-jansen")
    for direction in ("asc", "desc"):
        query = f"(order_column:apk_expiry,order_direction:{direction},page_size:100)"
        body = api.get(f"/api/v1/passport/?q={query}").get_json()
        dates = [r["apk_expiry"] for r in body["result"] if r["apk_expiry"]]
        assert GOLF_APK.isoformat() in dates
        assert dates == sorted(dates, reverse=direction == "desc")
        assert body["ids"] == [r["id"] for r in body["result"]]


@words_only
def test_issue18_the_recall_list_its_file_and_search_use_the_registers_brand(world, login_as):
    """Issue 18: the garage's list of recalled cars, its CSV and its brand search read the
    register's Volkswagen Golf for a recalled car typed without brand and model."""
    s = world.session
    recalled = s.scalars(
        select(Passport)
        .join(Recall, Recall.plate == Passport.plate)
        .where(Passport.garage_id == world.garage("Autobedrijf Jansen").id, Recall.status == "O")
        .order_by(Passport.id)
    ).first()
    s.add(Recall(plate="7ZTK17", reference="RDW2025100", status="O"))
    untyped_golf(world, recalled)
    browser = login_as("garage-jansen")
    row = _row_of(browser.get("/recalls/list/").get_data(as_text=True), "7-ZTK-17")
    assert "Volkswagen" in row and "Golf" in row
    (line,) = [r for r in csv_rows(browser.get("/recalls/export/csv")) if r[0] == "7-ZTK-17"]
    assert line[1:3] == ["Volkswagen", "Golf"]
    found = _text(browser.get("/recalls/list/?_flt_0_brand=volkswagen"))
    assert "7-ZTK-17" in found


@words_only
def test_issue18_lists_sort_by_brand_and_apk_expiry_as_they_count(world, login_as):
    """Issue 18: sorting the passport list by brand puts the untyped Golf among the
    typed Volkswagens, not before every typed brand; "Mijn voertuigen" by APK expiry
    sorts it by the register's date."""
    car = untyped_golf(world, _owner_car(world))
    page = login_as("garage-jansen").get(
        "/passports/list/?_oc_PassportView=brand&_od_PassportView=desc&psize_PassportView=100"
    )
    rows = [_cells(row) for row in re.split(r"<tr[ >]", page.get_data(as_text=True))]
    shown = [(cells[2], cells[3].lower()) for cells in rows if len(cells) > 3]
    assert ("7-ZTK-17", "volkswagen") in shown
    brands = [brand for _plate, brand in shown]
    assert brands == sorted(brands, reverse=True)

    owner = login_as("eigenaar")
    mine = owner.get(
        "/my-vehicles/list/?_oc_MyVehiclesView=apk_expiry&_od_MyVehiclesView=desc"
    ).get_data(as_text=True)
    others = [p for p in world.passports(owner_id=car.owner_id) if p.id != car.id]
    assert all(p.apk_expiry is None or p.apk_expiry < GOLF_APK for p in others)
    first = next(row for row in re.split(r"<tr[ >]", mine) if "/my-vehicles/show/" in row)
    assert "7-ZTK-17" in first and "11-08-2027" in first


@words_only
def test_issue18_the_activation_page_names_the_car_as_the_register_knows_it(world, api_client, app):
    """R-PP-4 / issue 18: the page the activation mail opens names the car as the mail
    does, "7-ZTK-17 (Volkswagen Golf)", for a passport created without brand or model."""
    api = api_client("garage-jansen")
    new = {"plate": "7-ztk-17", "email": "k.golf@example.nl", "last_name": "Golf"}
    passport_id = api.post("/api/v1/passport/", json=new).get_json()["id"]
    assert api.post(f"/api/v1/passport/{passport_id}/send").status_code == 200
    mail = world.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    link = re.search(r"/activate/\S+", mail_text(world.session, mail)).group(0)
    page = _text(app.test_client().get(link))
    assert "AutoPaspoort voor 7-ZTK-17 (Volkswagen Golf), van Autobedrijf Jansen." in page


def test_issue18_a_streamed_file_reads_the_same_values_as_the_screens(world):
    """Issue 18: `with_register_values` + `values_of_row` (the passport and recall files)
    give every passport the values `values_of` gives the screens: typed, else the
    register's, the later APK date — for untyped, typed and unknown plates alike."""
    from admin_app.services import vehicle_values

    s = world.session
    cars = world.passports(garage_id=world.garage("Autobedrijf Jansen").id)
    untyped_golf(world, cars[0])
    cars[1].plate, cars[1].brand = "GNKV03", None  # the register's Volkswagen Golf
    cars[1].model, cars[1].apk_expiry = "Golf GTI", dt.date(2020, 1, 1)  # typed
    s.commit()
    jansen = s.query(Passport).filter(Passport.id.in_([car.id for car in cars]))
    query, columns = vehicle_values.with_register_values(jansen)
    rows = query.with_entities(Passport.id, *columns).all()
    screens = vehicle_values.values_of(s, cars)
    assert {row.id: vehicle_values.values_of_row(row) for row in rows} == screens
    golf = screens[cars[1].id]
    assert (golf.brand.value, golf.model.value, golf.apk_expiry.value) == (
        "Volkswagen",
        "Golf GTI",
        dt.date(2026, 12, 31),
    )
