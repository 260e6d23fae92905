"""Issue 15 (use): what the garage, the fleet manager and Support read on issue 15's screens,
found by using them as they do (R-X-2, R-PP-8, R-FL-5)."""

from __future__ import annotations

import re

from sqlalchemy import select

from admin_app.models import FleetAccount, InspectionForm
from tests.downloads import csv_rows


def test_issue15_undo_task_names_what_it_undoes_not_a_task_number(world, login_as):
    """R-PP-8, R-X-2: the undo's selection read "Ongedaan maken van taak 2" — a number the
    "Taken" list shows nowhere. It says how many passports the earlier archiving took."""
    sent = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[:2]
    garage = login_as("garage-jansen")
    task_url = garage.post(
        "/passports/bulk/archive", {"id": [str(p.id) for p in sent], "count": "2"}
    ).headers["Location"]
    task_id = int(task_url.rstrip("/").rsplit("/", 1)[1])
    undo_url = garage.post(f"/tasks/{task_id}/undo").headers["Location"]
    for path in ("/tasks/list/", undo_url):
        page = garage.get(path).get_data(as_text=True)
        assert "2 gearchiveerd door een eerdere taak" in page, path
        assert f"taak {task_id}" not in page, path
    garage.get("/lang/en")
    assert "2 archived by an earlier task" in garage.get("/tasks/list/").get_data(as_text=True)


def test_issue15_read_only_form_writes_the_odometer_in_the_readers_language(world, login_as):
    """R-FL-5, R-X-2: the fleet manager's read-only form wrote "92.756 km" in English too
    (the car's own page beside it: "92,756 km")."""
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.name == "Bouwbedrijf Bakker")
    ).one()
    form = world.session.scalars(
        select(InspectionForm)
        .join(InspectionForm.passport)
        .where(InspectionForm.passport.has(fleet_account_id=fleet.id))
        .order_by(InspectionForm.inspection_date.desc())
    ).first()
    km = form.content["vehicle"]["odometer"]
    assert km >= 1000
    browser = login_as("fleet-bakker")
    path = f"/my-fleet/{form.passport_id}/inspections/{form.id}"
    assert f"{km:,}".replace(",", ".") + " km" in browser.get(path).get_data(as_text=True)
    browser.get("/lang/en")
    assert f"{km:,} km" in browser.get(path).get_data(as_text=True)


def test_issue15_csv_export_names_its_charset_once(login_as):
    """Lists to Excel: the download's header read "text/csv; charset=utf-8; charset=utf-8"."""
    response = login_as("garage-jansen").get("/passports/export/csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_issue15_taken_names_a_link_task_with_what_it_links(world, login_as):
    """R-X-2: "Taken" listed "AutoPaspoorten archiveren" beside a bare "Aan een wagenpark
    koppelen" — the button's words; a task says what it did to which, as its page's title."""
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.name == "Bouwbedrijf Bakker")
    ).one()
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[0]
    garage = login_as("garage-jansen")
    response = garage.post(
        "/passports/bulk/link",
        {"id": str(car.id), "count": "1", "fleet_account_id": str(fleet.id)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = garage.get("/tasks/list/").get_data(as_text=True)
    assert "AutoPaspoorten aan een wagenpark koppelen" in page
    garage.get("/lang/en")
    assert "Link passports to a fleet account" in garage.get("/tasks/list/").get_data(as_text=True)


def test_issue15_all_that_match_reads_right_for_one_passport(world, login_as):
    """R-X-2: a filter matching one passport offered "Alle 1 die aan het filter voldoen",
    and its task read "Alle 1 die voldoen aan: …"; one passport is named as one."""
    pending = world.passports(
        garage_id=world.garage("Autobedrijf Jansen").id, state="transfer_pending"
    )
    assert len(pending) == 1
    garage = login_as("garage-jansen")
    page = garage.get("/passports/list/?_flt_0_state=transfer_pending").get_data(as_text=True)
    assert "Het ene AutoPaspoort dat aan het filter voldoet" in page
    assert "Alle 1 " not in page
    response = garage.post(
        "/passports/bulk/send?all=1&_flt_0_state=transfer_pending", {"count": "1"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    task = garage.get(response.headers["Location"]).get_data(as_text=True)
    assert "Het ene AutoPaspoort dat voldoet aan: Status: Overdracht loopt" in task
    garage.get("/lang/en")
    task = garage.get(response.headers["Location"]).get_data(as_text=True)
    assert "The one passport that matches: State: Transfer pending" in task


def test_issue15_fleet_export_is_the_dashboard_as_filtered_with_advice_and_recalls(world, login_as):
    """R-FL-5, lists to Excel: the dashboard filtered on "Verlopen" downloaded every car of
    the fleet, without the advice and recall columns the screen shows. The file holds the
    filtered cars in the screen's order, with both columns in words; the links carry the
    screen's filter and sort."""
    browser = login_as("fleet-bakker")
    for show in ("overdue", "advice", "recall"):
        page = browser.get(f"/my-fleet/list/?show={show}&sort=plate").get_data(as_text=True)
        shown = re.findall(r'<tr data-plate="([^"]+)"', page)
        assert len(shown) == 1, show
        assert f'href="/my-fleet/export/csv?show={show}&amp;sort=plate"' in page
        rows = csv_rows(browser.get(f"/my-fleet/export/csv?show={show}&sort=plate"))
        header = rows[0]
        assert "Openstaand advies" in header and "Openstaande terugroepactie" in header
        assert [r[0] for r in rows[1:]] == shown, show
        if show == "advice":
            advice = rows[1][header.index("Openstaand advies")]
            assert "Banden voor vervangen" in advice and "inspectie van" in advice
        if show == "recall":
            recall = rows[1][header.index("Openstaande terugroepactie")]
            assert recall.startswith("RDW") and ": " in recall
    everything = csv_rows(browser.get("/my-fleet/export/csv?show=all&sort=apk_expiry"))
    page = browser.get("/my-fleet/list/?show=all&sort=apk_expiry").get_data(as_text=True)
    assert [r[0] for r in everything[1:]] == re.findall(r'<tr data-plate="([^"]+)"', page)


def test_issue15_downloaded_file_is_named_in_the_readers_language(login_as):
    """R-X-2: a Dutch garage's downloads were named "passports-…", "customers-…",
    "fleet-…": the list's title names the file, in the reader's language."""
    garage = login_as("garage-jansen")
    for path, dutch, english in (
        ("/passports/export/csv", "autopaspoorten-", "passports-"),
        ("/customers/export/xlsx", "klanten-", "customers-"),
    ):
        disposition = garage.get(path).headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="{dutch}'), disposition
        garage.get("/lang/en")
        disposition = garage.get(path).headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="{english}'), disposition
        garage.get("/lang/nl")
    fleet = login_as("fleet-bakker").get("/my-fleet/export/csv").headers["Content-Disposition"]
    assert fleet.startswith('attachment; filename="mijn-autopaspoorten-2'), fleet
