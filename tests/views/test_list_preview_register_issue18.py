"""Issue 18: the customer-list preview says per row which car fields the vehicle register
will fill in; R-BJ-1's car columns stay optional."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from admin_app.models import BatchRow
from tests.views.test_passport_views import FORM

LIST = (
    "kenteken;email;achternaam;merk;model;apk_vervaldatum\r\n"
    "7-ZTK-17;een@example.nl;Een;;;\r\n"
    "36-BLX-7;twee@example.nl;Twee;Skoda;Octavia;01-01-2027\r\n"
    "X-999-ZZ;drie@example.nl;Drie;;;\r\n"
    "AA-AA-AA;vier@example.nl;Vier;;;\r\n"
    "57-bzd-4;vijf@example.nl;Vijf;TESLA;model 3;17-07-2027\r\n"
)


def _cells(page: str) -> dict[str, str]:
    """The register column of each row, by the plate as the preview shows it."""
    cells = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        found = re.search(r'class="register-fills">([^<]*)<', row)
        if found:
            plate = re.findall(r"<td>([^<]*)</td>", row)[1]
            cells[plate] = found.group(1).strip()
    return cells


def test_issue18_the_preview_says_which_fields_the_register_fills(world, login_as):
    """Issue 18: an empty row is filled in all the register knows and neither the row nor
    the passport it updates holds, a typed row only in what it left out
    (fuel and first registration are no list columns), a typed value equal to the
    register's is staged empty, an unknown plate and a refused row get nothing."""
    browser = login_as("garage-jansen")
    # 7ZTK17 has a passport already, with its model typed: the row updates it and the
    # typed model stays.
    made = browser.post("/passports/new", {**FORM, "plate": "7ZTK17", "model": "Golf Variant"})
    assert made.status_code == 302
    upload = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO(LIST.encode()), "lijst.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302, upload.get_data(as_text=True)[:300]
    page = browser.get(upload.headers["Location"]).get_data(as_text=True)
    assert "Uit het voertuigregister" in page
    cells = _cells(page)
    assert cells["7-ZTK-17"] == "Merk, Brandstof, Eerste toelating, APK-vervaldatum"
    # Skoda and Octavia are the register's (Škoda, Octavia); its own APK date is typed.
    assert cells["36-BLX-7"] == "Merk, Model, Brandstof, Eerste toelating"
    assert cells["X-999-ZZ"] == "—"
    assert cells["AAAAAA"] == "—"  # refused: not a Dutch plate
    # Typed as the register has it (any case): the register's, not stored as typed.
    assert cells["57-BZD-4"] == "Merk, Model, Brandstof, Eerste toelating, APK-vervaldatum"
    staged = world.session.scalars(select(BatchRow).where(BatchRow.plate == "57BZD4")).one()
    assert (staged.brand, staged.model, staged.apk_expiry) == (None, None, None)
    english = browser.get(upload.headers["Location"] + "?_l_=en").get_data(as_text=True)
    assert "From the vehicle register" in english and "Brand, Fuel, First" in english
