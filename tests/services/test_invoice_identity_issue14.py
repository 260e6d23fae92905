"""Issue 14, R-CP-4: an invoice uploaded or posted again is the same invoice, not a new one.

Invoices are identified per garage by their number when the export has one, otherwise by
date, plate, customer number, amount and kind, counting repeats.
"""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.models import Invoice
from admin_app.services import proposals

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = (DATA / "facturen-voorbeeld.csv").read_bytes()


def _count(world, garage_id) -> int:
    world.session.expire_all()
    return world.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.garage_id == garage_id)
    )


def _upload(acting_as, world, username, data: bytes, filename="facturen.csv"):
    with acting_as(username) as acting:
        with unit_of_work(world.session):
            return proposals.import_invoices(
                world.session, filename=filename, data=data, actor=acting.actor
            )


def test_issue14_the_sample_export_three_times_leaves_107_invoices(acting_as, world):
    """R-CP-4: the same file again adds nothing and says so; the total stays the file's."""
    garage_id = world.garage("Garage De Vries").id
    before = _count(world, garage_id)
    results = [
        _upload(acting_as, world, "garage-devries", SAMPLE, "facturen-voorbeeld.csv")
        for _ in range(3)
    ]
    assert [(r.created, r.unchanged) for r in results] == [(107, 0), (0, 107), (0, 107)]
    assert all(r.total_cents == 7_872_784 and r.refused == [] for r in results)
    assert _count(world, garage_id) - before == 107


def test_issue14_identical_rows_without_a_number_count_as_repeats(acting_as, world):
    """R-CP-4: the n-th identical row of a file is the n-th identical stored invoice, so
    two real identical invoices stay two, and a third one later is added."""
    garage_id = world.garage("Garage De Vries").id
    before = _count(world, garage_id)
    row = "02-03-2026;V-43-ZKJ;9001;120,00;onderhoud\r\n"
    header = "factuurdatum;kenteken;klantnummer;bedrag;soort\r\n"
    twice = (header + row + row).encode("cp1252")
    first = _upload(acting_as, world, "garage-devries", twice)
    assert (first.created, first.unchanged) == (2, 0)
    # The same car in another notation is the same invoice.
    thrice = (header + row + row + row.replace("V-43-ZKJ", "v43zkj")).encode("cp1252")
    again = _upload(acting_as, world, "garage-devries", thrice)
    assert (again.created, again.unchanged, again.refused) == (1, 2, [])
    assert _count(world, garage_id) - before == 3
    # Another garage's identical invoice is its own.
    other = _upload(acting_as, world, "garage-jansen", twice)
    assert (other.created, other.unchanged) == (2, 0)


def test_issue14_an_invoice_number_identifies_the_invoice(acting_as, world):
    """R-CP-4: with a `factuurnummer` (or `invoice number`) column the number decides: a
    corrected amount under the same number is not a second invoice; a number repeated
    within one file is refused on its later row."""
    garage_id = world.garage("Garage De Vries").id
    before = _count(world, garage_id)
    data = (
        "factuurnummer;factuurdatum;kenteken;bedrag;soort\r\n"
        "F-2026-001;02-03-2026;V-43-ZKJ;120,00;onderhoud\r\n"
        "F-2026-002;02-03-2026;V-43-ZKJ;120,00;onderhoud\r\n"
        "F-2026-001;03-03-2026;V-43-ZKJ;99,00;APK\r\n"
    ).encode("cp1252")
    first = _upload(acting_as, world, "garage-devries", data)
    assert (first.created, first.unchanged) == (2, 0)
    assert first.refused == [(4, "Factuurnummer F-2026-001 staat al op rij 2.")]
    english = (
        b"Invoice number,Date,Plate,Amount,Kind\r\n"
        b"F-2026-002,02-03-2026,V-43-ZKJ,125.00,maintenance\r\n"
        b"F-2026-003,02-03-2026,V-43-ZKJ,120.00,maintenance\r\n"
    )
    second = _upload(acting_as, world, "garage-devries", english)
    assert (second.created, second.unchanged) == (1, 1)
    assert _count(world, garage_id) - before == 3
    numbers = world.session.scalars(
        select(Invoice.invoice_number).where(
            Invoice.garage_id == garage_id, Invoice.invoice_number.is_not(None)
        )
    ).all()
    assert sorted(numbers) == ["F-2026-001", "F-2026-002", "F-2026-003"]


def test_issue14_the_upload_page_says_new_and_unchanged(world, login_as):
    """R-CP-4 on the screen: "N nieuw, M ongewijzigd"."""
    browser = login_as("garage-devries")

    def upload() -> str:
        return browser.post(
            "/proposals/invoices",
            {"file": (io.BytesIO(SAMPLE), "facturen-voorbeeld.csv")},
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)

    assert "107 nieuw, 0 ongewijzigd (samen € 78.727,84); 0 rijen geweigerd." in upload()
    assert "0 nieuw, 107 ongewijzigd (samen € 78.727,84); 0 rijen geweigerd." in upload()


def test_issue14_an_invoice_posted_again_answers_200_with_the_stored_one(world, api_client):
    """R-CP-4 through the API: the same invoice is 200 with the stored invoice, not a
    second 201; with a number the number decides."""
    client = api_client("garage-jansen")
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[0]
    body = {"invoice_date": "2026-03-02", "plate": car.plate_display, "amount": "80,00"}
    first = client.post("/api/v1/invoice/", json={**body, "kind": "onderhoud"})
    assert first.status_code == 201, first.json
    again = client.post("/api/v1/invoice/", json={**body, "kind": "maintenance"})
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    other_kind = client.post("/api/v1/invoice/", json={**body, "kind": "APK"})
    assert other_kind.status_code == 201
    numbered = {**body, "amount": "81,00", "kind": "onderhoud", "invoice_number": "2026-17"}
    created = client.post("/api/v1/invoice/", json=numbered)
    assert created.status_code == 201 and created.json["result"]["invoice_number"] == "2026-17"
    corrected = client.post("/api/v1/invoice/", json={**numbered, "amount": "85,00"})
    assert corrected.status_code == 200 and corrected.json["id"] == created.json["id"]
    assert corrected.json["result"]["amount_cents"] == 8100


def test_issue14_numbers_arriving_later_name_the_invoices_stored_without(acting_as, world):
    """R-CP-4: the sample export (no numbers) and later the same invoices with numbers
    (a management system that started exporting them) are still 107 invoices; the stored
    ones get their numbers, so a third upload with numbers adds nothing either."""
    garage_id = world.garage("Garage De Vries").id
    before = _count(world, garage_id)
    _upload(acting_as, world, "garage-devries", SAMPLE, "facturen-voorbeeld.csv")
    lines = SAMPLE.decode("cp1252").splitlines()
    numbered = "\r\n".join(
        [f"factuurnummer;{lines[0]}"]
        + [f"2026-{index:04d};{line}" for index, line in enumerate(lines[1:], start=1)]
    ).encode("cp1252")
    for _ in range(2):
        result = _upload(acting_as, world, "garage-devries", numbered)
        assert (result.created, result.unchanged, result.refused) == (0, 107, [])
    assert _count(world, garage_id) - before == 107
    assert (
        world.session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.garage_id == garage_id, Invoice.invoice_number.like("2026-%"))
        )
        == 107
    )


def test_issue14_a_number_posted_later_names_the_invoice_posted_without(world, api_client):
    """R-CP-4 through the API: the invoice posted without a number and again with one is
    one invoice, which now has the number."""
    client = api_client("garage-jansen")
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[1]
    body = {"invoice_date": "2026-04-02", "plate": car.plate, "amount": "99,95", "kind": "APK"}
    first = client.post("/api/v1/invoice/", json=body)
    assert first.status_code == 201
    numbered = client.post("/api/v1/invoice/", json={**body, "invoice_number": "A-7"})
    assert numbered.status_code == 200 and numbered.json["id"] == first.json["id"]
    assert numbered.json["result"]["invoice_number"] == "A-7"
