"""Issue 18, recalls where people look: an open recall — what is wrong, its remedy, the
possible consequences, RDW's reference — on the passport profile, the inspection
form (R-IN-3), the fleet dashboard (R-FL-5) and "Mijn voertuigen"; a garage's list of its
passports with an open recall and its export, within the scope (R-SEC-1); and a recall the
next register import closes is gone from all of them.

The demo gives two live passports of each garage and one fleet car an open recall
(demo._demo_recall); the register import is the real one (services/register_import)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app.jobs.register import import_now
from admin_app.models import InspectionForm, Passport, Recall, RecallDetail
from admin_app.services.audit import Actor
from admin_app.services.recalls import open_recalls
from tests.conftest import DB_KIND
from tests.downloads import csv_rows, xlsx_rows

STATUS = (
    Path(__file__).resolve().parents[2]
    / "admin_app"
    / "demo_data"
    / "register"
    / "rdw-terugroep-status-voorbeeld.csv"
)
ADMIN = Actor(None, "admin", roles=frozenset({"Admin"}))
AIRBAG = "RDW2025100"  # in the sample recall details: "Airbag kan onbedoeld afgaan"
# The words on the screens: once is enough. The list, its file and the import's closing
# run on both databases (their SQL differs there).
words_only = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens and words: SQLite only")


def _recalled(world, garage_name: str) -> tuple[list[Passport], dict]:
    """The garage's live passports with an open recall, and the recalls by plate."""
    garage = world.garage(garage_name)
    live = [p for p in world.passports(garage_id=garage.id) if p.state != "archived"]
    found = open_recalls(world.session, [p.plate for p in live])
    return [p for p in live if p.plate in found], found


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _says_the_recall(page: str, recall, *, english: bool) -> None:
    assert recall.reference in page and recall.description in page and recall.remedy in page
    if english:
        assert "Open recall" in page and "RDW reference" in page
        assert "Remedy" in page
    else:
        assert "Openstaande terugroepactie" in page and "RDW-referentie" in page
        # The remedy is RDW's text ("De dealer vervangt..."): labelled "what the garage
        # does", it told an independent garage it does what the dealer does.
        assert "Herstel:" in page and "Wat de garage doet" not in page


@words_only
def test_issue18_profile_and_inspection_form_show_the_recall_in_dutch_and_english(world, login_as):
    """Issue 18 / R-IN-3: the garage's profile of a recalled car and its inspection form
    say what is wrong and what the garage does, with the RDW reference."""
    cars, found = _recalled(world, "Autobedrijf Jansen")
    car = cars[0]
    recall = found[car.plate][0]
    form_id = world.session.scalar(
        select(InspectionForm.id).where(InspectionForm.passport_id == car.id)
    )
    assert form_id, "the demo made a form for this car"
    browser = login_as("garage-jansen")
    _says_the_recall(_text(browser.get(f"/passports/show/{car.id}")), recall, english=False)
    form_page = _text(browser.get(f"/inspections/{form_id}"))
    _says_the_recall(form_page, recall, english=False)
    assert "Openstaande terugroepactie voor" not in form_page  # one car: no plate needed
    _says_the_recall(_text(browser.get(f"/passports/show/{car.id}?_l_=en")), recall, english=True)
    _says_the_recall(_text(browser.get(f"/inspections/{form_id}?_l_=en")), recall, english=True)
    # A car without one says nothing of recalls.
    other = next(p for p in world.passports(garage_id=car.garage_id) if p.plate not in found)
    assert "RDW reference" not in _text(browser.get(f"/passports/show/{other.id}?_l_=en"))


@words_only
def test_issue18_fleet_dashboard_and_my_vehicles_show_the_recall(world, login_as):
    """Issue 18 / R-FL-5: the fleet manager's dashboard and car page, and the owner's
    "Mijn voertuigen" and car page, show the open recall in words, Dutch and English."""
    s = world.session
    fleet_cars = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)
    found = open_recalls(s, [p.plate for p in fleet_cars])
    (fleet_car,) = [p for p in fleet_cars if p.plate in found]
    fleet_recall = found[fleet_car.plate][0]
    fleet = login_as("fleet-bakker")
    dashboard = _text(fleet.get("/my-fleet/list/"))
    assert fleet_recall.description in dashboard and fleet_recall.remedy in dashboard
    assert "RDW-referentie" in dashboard
    _says_the_recall(
        _text(fleet.get(f"/my-fleet/show/{fleet_car.id}")), fleet_recall, english=False
    )
    _says_the_recall(
        _text(fleet.get(f"/my-fleet/show/{fleet_car.id}?_l_=en")), fleet_recall, english=True
    )

    # The owner's car gets the sample's airbag recall (its details are in the register).
    owner = login_as("eigenaar")
    mine = world.passports(owner_id=_owner_id(world))
    car = next(p for p in mine if p.state == "activated")
    s.add(Recall(plate=car.plate, reference=AIRBAG, status="O"))
    s.commit()
    recall = open_recalls(s, [car.plate])[car.plate][0]
    assert recall.description == "Airbag kan onbedoeld afgaan"
    listed = _text(owner.get("/my-vehicles/list/"))
    _says_the_recall(listed, recall, english=False)
    assert f"Openstaande terugroepactie voor {car.plate_display}" in listed
    assert "Mogelijke gevolgen" in listed and "gepubliceerd 01-03-2025" in listed
    _says_the_recall(_text(owner.get(f"/my-vehicles/show/{car.id}")), recall, english=False)
    _says_the_recall(_text(owner.get(f"/my-vehicles/show/{car.id}?_l_=en")), recall, english=True)


def _owner_id(world):
    from admin_app.models import Customer

    return world.session.scalar(
        select(Customer.id).where(Customer.email == "eigenaar@example.nl").limit(1)
    )


def test_issue18_garage_lists_and_exports_only_its_own_recalled_passports(world, login_as):
    """Issue 18 / R-SEC-1: "Openstaande terugroepacties" lists the garage's live passports
    with an open recall, its home page counts them, and the CSV and Excel files hold one
    line per recall of exactly those cars: never the other garage's."""
    jansen_cars, jansen_found = _recalled(world, "Autobedrijf Jansen")
    devries_cars, _ = _recalled(world, "Garage De Vries")
    assert jansen_cars and devries_cars
    browser = login_as("garage-jansen")
    page = _text(browser.get("/recalls/list/"))
    for car in jansen_cars:
        assert car.plate_display in page and f"/passports/show/{car.id}" in page
    for car in devries_cars:
        assert car.plate_display not in page
    assert "Openstaande terugroepacties" in page
    home = _text(browser.get("/"))
    assert "met een openstaande terugroepactie</a>" in home
    assert f'todo-waiting">{len(jansen_cars)}</span><a href="/recalls/list/"' in home

    lines = csv_rows(browser.get("/recalls/export/csv"))
    assert lines[0] == [
        "Kenteken",
        "Merk",
        "Model",
        "Eigenaar",
        "E-mail",
        "Telefoon",
        "RDW-referentie",
        "Wat er mis is",
        "Herstel",
        "Mogelijke gevolgen",
        "Gepubliceerd",
    ]
    expected = sorted(
        (car.plate_display, recall.reference)
        for car in jansen_cars
        for recall in jansen_found[car.plate]
    )
    assert sorted((line[0], line[6]) for line in lines[1:]) == expected
    sheet = xlsx_rows(browser.get("/recalls/export/xlsx"))
    assert sorted((row[0], row[6]) for row in sheet[1:]) == expected

    # The list's search narrows the list and its file alike.
    one = jansen_cars[0]
    narrowed = csv_rows(browser.get(f"/recalls/export/csv?_flt_0_plate={one.plate}"))
    assert {line[0] for line in narrowed[1:]} == {one.plate_display}


@words_only
def test_issue18_fleet_manager_lists_only_his_cars_and_an_owner_has_no_list(world, login_as):
    """Issue 18 / R-SEC-1: the fleet manager's recall list (his passports' permission)
    holds his fleet's recalled car only; an owner is refused it."""
    fleet_id = world.user("fleet-bakker").fleet_account_id
    page = _text(login_as("fleet-bakker").get("/recalls/list/"))
    fleet_plates = {p.plate_display for p in world.passports(fleet_account_id=fleet_id)}
    jansen_cars, _ = _recalled(world, "Autobedrijf Jansen")
    assert not any(
        car.plate_display in page for car in jansen_cars if car.plate_display not in fleet_plates
    )
    assert any(plate in page for plate in fleet_plates)
    refused = login_as("eigenaar").get("/recalls/list/")
    assert refused.status_code in (302, 403, 404)
    assert "RDW" not in refused.get_data(as_text=True)


def _status_file(tmp_path, plate: str, code: str) -> Path:
    """The sample recall-status file with one more line: the airbag recall on ``plate``."""
    target = tmp_path / f"status-{code}.csv"
    target.write_text(
        STATUS.read_text(encoding="utf-8") + f'"{AIRBAG}","{plate}","{code}"\n', encoding="utf-8"
    )
    return target


def test_issue18_a_recall_closed_by_the_next_import_disappears_everywhere(
    world, login_as, tmp_path
):
    """Issue 18: the register's status file opens a recall on a garage's car — profile,
    list, home count and export show it —; the next file says it is repaired (code P):
    gone from all of them, the recall's details stay in the register."""
    s = world.session
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[-1]
    assert import_now(s, _status_file(tmp_path, car.plate, "O"), actor=ADMIN).state == "done"
    browser = login_as("garage-jansen")
    assert "Airbag kan onbedoeld afgaan" in _text(browser.get(f"/passports/show/{car.id}"))
    assert car.plate_display in _text(browser.get("/recalls/list/"))
    assert [car.plate_display] == [
        line[0] for line in csv_rows(browser.get("/recalls/export/csv"))[1:]
    ]
    # The demo's own recalls were not in the file: closed too.
    assert 'todo-waiting">1</span><a href="/recalls/list/"' in _text(browser.get("/"))

    assert import_now(s, _status_file(tmp_path, car.plate, "P"), actor=ADMIN).state == "done"
    assert "Airbag" not in _text(browser.get(f"/passports/show/{car.id}"))
    assert car.plate_display not in _text(browser.get("/recalls/list/"))
    assert csv_rows(browser.get("/recalls/export/csv"))[1:] == []
    assert 'todo-recalls"><span class="badge todo-count">0</span>' in _text(browser.get("/"))
    assert s.scalar(select(RecallDetail.defect).where(RecallDetail.reference == AIRBAG))
