"""Issue 20: the inspection form's document has one typed definition
(services/inspections/document.py) that the service, the screen, the API and the
templates read (R-IN-2…5, SPEC's API contract for inspection_form)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import fields
from pathlib import Path

from sqlalchemy import select

import admin_app
from admin_app.api import schemas
from admin_app.db import unit_of_work
from admin_app.models import InspectionForm, InspectionFormVersion
from admin_app.scope import ALL_TENANTS
from admin_app.services import inspections
from admin_app.services.inspections import document

ROOT = Path(admin_app.__file__).parent
DAY = dt.date(2026, 11, 20)


def _contents(s) -> list[dict]:
    everything = {ALL_TENANTS: True}
    forms = s.scalars(select(InspectionForm).execution_options(**everything)).all()
    versions = s.scalars(select(InspectionFormVersion).execution_options(**everything)).all()
    return [form.content for form in forms] + [version.content for version in versions]


def test_issue20_every_stored_form_reads_into_the_document_and_back_unchanged(acting_as, world):
    """R-IN-2, R-IN-5 and the API contract: the JSON the API returns as ``content`` and
    the versions hold is exactly what the document writes, keys and order alike."""
    s = world.session
    jansen = world.garage("Autobedrijf Jansen").id
    passport = world.passports(garage_id=jansen, state="activated")[1]
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            for kind in ("customer", "all_ok", "blank"):
                form = inspections.create_draft(
                    s,
                    kind=kind,
                    actor=acting.actor,
                    inspector="Piet Monteur",
                    inspection_date=DAY,
                    passport_id=None if kind == "blank" else passport.id,
                )
            inspections.update_form(
                s,
                form.id,
                {
                    "advice": [{"description": "Remblokken", "price": "145,00"}],
                    "vehicle": {"plate": "12-ABC-3", "odometer": "123.456"},
                    "dates": {"apk_expiry": "2027-01-31"},
                },
                actor=acting.actor,
                today=DAY,
            )
            inspections.save_form(s, form.id, actor=acting.actor, today=DAY)
        contents = _contents(s)
    assert len(contents) >= 5
    for content in contents:
        written = document.FormDocument.from_json(content).to_json()
        assert written == content
        assert list(written) == list(content)
        for part in ("customer", "vehicle", "dates"):
            assert list(written[part]) == list(content[part])


def test_issue20_the_api_input_schemas_name_the_documents_fields():
    """The PUT/save body's blocks (SPEC's contract) are the document's blocks."""
    changes = schemas.InspectionFormChanges()
    assert tuple(schemas.TypedCustomer().fields) == document.CUSTOMER_FIELDS
    assert tuple(schemas.TypedVehicle().fields) == document.VEHICLE_FIELDS
    assert tuple(schemas.PassportDates().fields) == document.DATE_FIELDS
    assert tuple(document.PASSPORT_DATES) == document.DATE_FIELDS
    assert tuple(document.CUSTOMER_LABELS) == document.CUSTOMER_FIELDS
    assert tuple(document.VEHICLE_LABELS) == document.VEHICLE_FIELDS
    result_fields = {f.name for f in fields(document.CheckpointResult)}
    assert set(schemas.CheckpointResult().fields) <= result_fields
    assert set(changes.fields) >= {"results", "advice", "customer", "vehicle", "dates"}


# A stored form's JSON read by key (``content["advice"]``, ``content.get("customer")``):
# the spelling the document replaces.
KEYED_READ = re.compile(r"""content\s*(\[|\.get\()|\.content\)?\s*\.get\(|content\s*\[\s*["']""")


def test_issue20_no_form_content_is_read_by_key_outside_the_document():
    """The service, the screen, the API and the form's templates read the typed document."""
    readers = [
        *sorted((ROOT / "services" / "inspections").glob("*.py")),
        ROOT / "views" / "inspections.py",
        ROOT / "api" / "inspections.py",
        *(
            ROOT / "templates" / "console" / name
            for name in ("inspection_form.html", "inspection_print.html", "inspection_read.html")
        ),
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in readers
        if path.name != "document.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if KEYED_READ.search(line)
    ]
    assert found == []
