"""Issue 15, lists to Excel, on every list but the passports': customers, batch jobs and a
job's rows, inspection forms, invoices, the week's proposals, the fleet dashboard, the
audit log and the outbox. Each file holds exactly the rows its screen shows — its filter,
within the user's scope (R-SEC-1), another garage's rows never — with dates and numbers as
typed cells, enums as their words, and never a mail's body or links."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from admin_app.domain.plates import display_plate
from admin_app.models import (
    AuditLog,
    BatchJob,
    ContactProposal,
    Customer,
    InspectionForm,
    Invoice,
    OutboxMessage,
    Passport,
)
from admin_app.services import exports
from tests.downloads import csv_rows, xlsx_rows


def _garage_ids(world):
    return world.garage("Autobedrijf Jansen").id, world.garage("Garage De Vries").id


def _upload_own_passports(browser) -> int:
    """A batch job for the user's garage (his passport export uploaded again): its id."""
    data = browser.get("/passports/export/csv?_flt_1_state=archived").get_data()
    response = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO(data), "klanten.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1].split("?")[0])


def test_issue15_customer_export_is_the_filtered_list_of_the_own_garage(world, login_as):
    """Issue 15 / R-SEC-1: the customer export holds the garage's customers of the city
    filter, in the list's order, none of the other garage's."""
    jansen, devries = _garage_ids(world)
    city = world.session.scalars(
        select(Customer.city).where(Customer.garage_id == jansen, Customer.city.is_not(None))
    ).first()
    expected = world.session.scalars(
        select(Customer.email).where(Customer.garage_id == jansen, Customer.city == city)
    ).all()
    lines = csv_rows(login_as("garage-jansen").get(f"/customers/export/csv?_flt_0_city={city}"))
    assert lines[0] == ["Naam", "E-mail", "Plaats", "Klantnummer", "Garage"]
    assert sorted(line[1] for line in lines[1:]) == sorted(expected) and expected
    assert {line[4] for line in lines[1:]} == {"Autobedrijf Jansen"}
    everyone = csv_rows(login_as("garage-jansen").get("/customers/export/csv"))
    theirs = set(world.session.scalars(select(Customer.email).where(Customer.garage_id == devries)))
    assert len(everyone) - 1 == world.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.garage_id == jansen)
    )
    assert not theirs & {line[1] for line in everyone[1:]}


def test_issue15_batch_job_export_and_its_rows_typed_and_in_scope(world, login_as):
    """Issue 15 / R-BJ-5: "Mijn batch jobs" as a file (the moment a date cell, the counts
    numbers, the state in words) and one job's rows of the tab's outcome; another
    garage neither lists the job nor reaches its rows."""
    jansen_browser, devries_browser = login_as("garage-jansen"), login_as("garage-devries")
    job_id = _upload_own_passports(jansen_browser)
    _upload_own_passports(devries_browser)
    world.session.expire_all()
    job = world.session.get(BatchJob, job_id)

    rows = xlsx_rows(jansen_browser.get("/batch-jobs/export/xlsx"))
    assert rows[0][:4] == ["Bestand", "Wie", "Wanneer", "Status"]
    assert len(rows) == 2 and rows[1][0] == "klanten.csv"
    assert isinstance(rows[1][2], dt.datetime)
    assert rows[1][3] == "Voorbeeld: wacht op uw bevestiging"
    assert rows[1][4] == job.total_rows and isinstance(rows[1][4], int)
    assert rows[1][6:] == [
        job.counts.get(key, 0) for key in ("create", "update", "unchanged", "refused")
    ]

    lines = csv_rows(jansen_browser.get(f"/batch-jobs/{job_id}/rows/export/csv?outcome=unchanged"))
    assert lines[0] == ["Rij", "Kenteken", "E-mail", "Resultaat", "Reden"]
    assert len(lines) - 1 == job.counts["unchanged"] == job.total_rows
    assert [int(line[0]) for line in lines[1:]] == list(range(2, job.total_rows + 2))
    assert {line[3] for line in lines[1:]} == {"ongewijzigd"}
    assert csv_rows(
        jansen_browser.get(f"/batch-jobs/{job_id}/rows/export/csv?outcome=refused")
    ) == [lines[0]]
    rows = xlsx_rows(jansen_browser.get(f"/batch-jobs/{job_id}/rows/export/xlsx"))
    assert len(rows) - 1 == job.total_rows and isinstance(rows[1][0], int)

    assert devries_browser.get(f"/batch-jobs/{job_id}/rows/export/csv").status_code == 404
    assert jansen_browser.get(f"/batch-jobs/{job_id}/rows/export/csv?outcome=x").status_code == 404
    page = jansen_browser.get(f"/batch-jobs/show/{job_id}?outcome=unchanged").get_data(as_text=True)
    assert f'href="/batch-jobs/{job_id}/rows/export/xlsx?outcome=unchanged"' in page


def test_issue15_rows_export_too_large_for_excel_offers_its_own_csv(world, login_as, monkeypatch):
    """Issue 15: a job's rows beyond a sheet: the page offers the same rows as CSV."""
    browser = login_as("garage-jansen")
    job_id = _upload_own_passports(browser)
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    response = browser.get(f"/batch-jobs/{job_id}/rows/export/xlsx?outcome=unchanged")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert f'href="/batch-jobs/{job_id}/rows/export/csv?outcome=unchanged"' in page
    assert f'href="/batch-jobs/show/{job_id}?outcome=unchanged"' in page


def test_issue15_inspection_form_export_holds_the_garages_forms(world, login_as):
    """Issue 15 / R-SEC-1: "All inspection forms" as a file: the garage's forms, newest
    first, the inspection date a date cell."""
    jansen, _ = _garage_ids(world)
    forms = world.session.scalars(
        select(InspectionForm)
        .where(InspectionForm.garage_id == jansen)
        .order_by(InspectionForm.inspection_date.desc(), InspectionForm.id.desc())
    ).all()
    browser = login_as("garage-jansen")
    rows = xlsx_rows(browser.get("/inspections/all/export/xlsx"))
    assert rows[0] == ["Inspectiedatum", "Kenteken", "Klant", "Inspecteur", "Versie"]
    assert [row[3] for row in rows[1:]] == [form.inspector for form in forms] and forms
    assert all(isinstance(row[0], dt.datetime) for row in rows[1:])
    assert 'href="/inspections/all/export/csv"' in browser.get("/inspections/all").get_data(
        as_text=True
    )


def test_issue15_invoice_export_amounts_are_numbers_of_the_own_garage(world, login_as):
    """Issue 15 / R-CP-1: the uploaded invoices as a file: the garage's only, the amount a
    number cell in euros, the kind in words, the date a date cell."""
    jansen, _ = _garage_ids(world)
    invoices = world.session.scalars(select(Invoice).where(Invoice.garage_id == jansen)).all()
    rows = xlsx_rows(login_as("garage-jansen").get("/proposals/invoices/export/xlsx"))
    assert rows[0][1:] == ["Factuurdatum", "Kenteken", "Klantnummer", "Bedrag", "Soort"]
    assert len(rows) - 1 == len(invoices) > 0
    assert all(isinstance(row[4], int | float) for row in rows[1:])
    assert round(sum(row[4] for row in rows[1:]), 2) == sum(i.amount_cents for i in invoices) / 100
    assert {row[5] for row in rows[1:]} <= {"Onderhoud", "APK", "Reparatie"}
    assert all(isinstance(row[1], dt.datetime) for row in rows[1:])


def test_issue15_proposal_export_is_the_week_on_screen(world, login_as):
    """Issue 15 / R-CP-2: the week's proposals as a file: the week the screen shows, the
    garage's rows in its order, the choice in words; the screen's links carry the week."""
    jansen, _ = _garage_ids(world)
    week = world.session.scalar(
        select(ContactProposal.week)
        .where(ContactProposal.garage_id == jansen)
        .order_by(ContactProposal.week)
    )
    proposals = world.session.scalars(
        select(ContactProposal)
        .where(ContactProposal.garage_id == jansen, ContactProposal.week == week)
        .order_by(ContactProposal.predicted_date, ContactProposal.id)
    ).all()
    browser = login_as("garage-jansen")
    lines = csv_rows(browser.get(f"/proposals/export/csv?week={week}"))
    assert lines[0][-1] == "Uitnodigen?"
    assert [line[2] for line in lines[1:]] == [display_plate(p.passport.plate) for p in proposals]
    assert {line[5] for line in lines[1:]} <= {"Ja", "Nee", "Nooit"}
    assert re.fullmatch(r"\d\d-\d\d-\d{4}", lines[1][4])
    page = browser.get(f"/proposals/?week={week}").get_data(as_text=True)
    assert f'href="/proposals/export/xlsx?week={week}"' in page
    # A week that cannot be: the screen's message, no file, no error.
    response = browser.get("/proposals/export/csv?week=2026-W99")
    assert response.status_code == 302


def test_issue15_fleet_export_is_the_fleet_managers_cars(world, login_as):
    """Issue 15 / R-FL-5, R-SEC-1: the fleet dashboard as a file: his fleet's cars that
    are not archived, by plate, dates as date cells, the marks, advice and recalls in
    words, the state in words; and the dashboard's filter and sort as on screen."""
    fleet_id = world.user("fleet-bakker").fleet_account_id
    cars = world.session.scalars(
        select(Passport)
        .where(Passport.fleet_account_id == fleet_id, Passport.state != "archived")
        .order_by(Passport.plate)
    ).all()
    browser = login_as("fleet-bakker")
    rows = xlsx_rows(browser.get("/my-fleet/export/xlsx"))
    assert rows[0] == [
        "Kenteken", "Merk", "Model", "Bestuurder", "APK-vervaldatum", "APK",
        "Volgende onderhoudsbeurt", "Onderhoud", "Openstaand advies", "Openstaande terugroepactie",
        "Status",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == [car.plate_display for car in cars] and cars
    assert any(isinstance(row[4], dt.datetime) for row in rows[1:])
    assert {row[-1] for row in rows[1:]} == {"Geactiveerd"}
    # The demo fleet has one car past its APK date, one with advice, one with a recall.
    assert "verlopen" in {row[5] for row in rows[1:]}
    assert any(row[8] for row in rows[1:]) and any(row[9] for row in rows[1:])
    page = browser.get("/my-fleet/list/?show=overdue&sort=apk_expiry").get_data(as_text=True)
    assert 'href="/my-fleet/export/csv?show=overdue&amp;sort=apk_expiry"' in page
    overdue = xlsx_rows(browser.get("/my-fleet/export/xlsx?show=overdue&sort=apk_expiry"))
    assert 0 < len(overdue) - 1 < len(rows) - 1
    assert all("verlopen" in (row[5], row[7]) for row in overdue[1:])


def test_issue15_audit_log_export_is_the_filtered_log_in_words(world, login_as):
    """Issue 15 / R-SEC-2: the audit log as a file: the filter's entries, as sentences, the
    moment a date cell; a garage has no audit log to export."""
    expected = world.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.table_name == "passport")
    )
    rows = xlsx_rows(login_as("support").get("/audit-log/export/xlsx?_flt_0_table_name=passport"))
    assert rows[0][:3] == ["Wanneer", "Wie", "Wat"]
    assert len(rows) - 1 == expected > 0
    assert all(isinstance(row[0], dt.datetime) for row in rows[1:])
    assert "passport" not in {row[2] for row in rows[1:]}
    garage = login_as("garage-jansen").get("/audit-log/export/csv")
    assert garage.mimetype != "text/csv"


def test_issue15_outbox_export_never_holds_a_body_or_link(world, login_as):
    """Issue 15: the outbox as a file: the filter's mails, states and kinds in words, but
    never their parameters (the access links) or body."""
    pending = world.session.scalars(
        select(OutboxMessage).where(OutboxMessage.state == "pending")
    ).all()
    response = login_as("support").get("/outbox/export/csv?_flt_0_state=pending")
    lines = csv_rows(response)
    assert len(lines) - 1 == len(pending) > 0
    assert lines[0] == [
        "Aangemaakt",
        "Ontvanger",
        "Soort",
        "Onderwerp",
        "Status",
        "Pogingen",
        "Laatste fout",
        "Verzonden",
    ]
    assert "pending" not in {line[4] for line in lines[1:]}
    text = response.get_data(as_text=True)
    secrets = [
        str(value)
        for mail in world.session.scalars(select(OutboxMessage))
        for value in (mail.params or {}).values()
        if isinstance(value, str) and len(value) > 20
    ]
    assert not [secret for secret in secrets if secret in text]
    assert "http" not in text


@pytest.mark.parametrize(
    "url",
    [
        "/customers/export/pdf",
        "/batch-jobs/export/pdf",
        "/inspections/all/export/pdf",
        "/proposals/export/pdf",
        "/proposals/invoices/export/pdf",
    ],
)
def test_issue15_unknown_format_is_404_on_every_list(world, login_as, url):
    """Issue 15: only csv and xlsx exist."""
    assert login_as("garage-jansen").get(url).status_code == 404
