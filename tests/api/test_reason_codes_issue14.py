"""Issue 14, Dutch throughout (R-X-2): stored refusal reasons and version summaries are
codes with parameters, read in the reader's language; rows stored before keep their text."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from admin_app.models import BatchRow
from admin_app.models.inspections import InspectionFormVersion
from tests.api.test_batch_job_api import upload


def _refused(api, job_id, language=None):
    suffix = f"&_l_={language}" if language else ""
    return api.get(f"/api/v1/batch_job/{job_id}/rows?outcome=refused{suffix}").get_json()["result"]


def test_issue14_api_reason_follows_the_language_and_gives_the_code(world, api_client):
    """R-X-2, R-BJ-2: `reason` in Dutch by default, English with ?_l_=en; `reason_code`."""
    api = api_client("garage-devries")
    job = upload(api, "klantenlijst-met-fouten.csv").get_json()["id"]
    dutch, english = _refused(api, job), _refused(api, job, "en")
    by_row = {row["row_number"]: row for row in english}
    repeated = next(row for row in dutch if row["reason_code"] == "plate_repeated")
    assert "herhaalt rij" in repeated["reason"]
    assert "repeats row" in by_row[repeated["row_number"]]["reason"]
    codes = {code for row in dutch for code in row["reason_code"].split()}
    assert {"plate_invalid", "email_missing", "plate_repeated"} <= codes
    assert not [row for row in english if "ontbreekt" in row["reason"] or " geen " in row["reason"]]


def test_issue14_a_plan_refusal_is_a_code_too(world, api_client):
    """R-BJ-2: a plate live at another garage, refused by the plan, reads in English."""
    jansen_plate = world.passports(garage_id=world.garage("Autobedrijf Jansen").id)[0].plate
    data = f"kenteken;email;achternaam\r\n{jansen_plate};nieuw@example.nl;Nieuw\r\n".encode()
    api = api_client("garage-devries")
    job = upload(api, "lijst.csv", data).get_json()["id"]
    (row,) = _refused(api, job, "en")
    assert row["reason_code"] == "other_garage"
    assert row["reason"] == "The plate has an active passport at another garage."


def test_issue14_rows_stored_before_keep_their_text(world, api_client):
    """A row refused before codes existed shows its stored sentence."""
    api = api_client("garage-devries")
    job = upload(api, "klantenlijst-met-fouten.csv").get_json()["id"]
    s = world.session
    row = s.scalars(
        select(BatchRow).where(BatchRow.batch_job_id == job, BatchRow.plan == "refused")
    ).first()
    row.reason, row.reason_code, row.reason_params = "Oude reden.", None, None
    s.commit()
    assert {r["reason"] for r in _refused(api, job, "en")} >= {"Oude reden."}
    assert next(r for r in _refused(api, job) if r["id"] == row.id)["reason_code"] is None


def test_issue14_version_summaries_read_in_the_readers_language(world, app):
    """R-IN-5, R-X-2: a version's changes are codes; older versions keep their sentences."""
    from admin_app.models.inspections import change_text

    s = world.session
    version = s.scalars(select(InspectionFormVersion).order_by(InspectionFormVersion.id)).first()
    assert version.changes == [{"code": "first_version"}]
    status = {"code": "status", "params": {"checkpoint": "Remlampen", "old": "ok", "new": "urgent"}}
    advice = {"code": "advice", "params": {"count": 1, "total_cents": 1250}}
    with app.test_request_context("/"):
        with force_locale("en"):
            assert version.change_texts() == ["First version."]
            assert change_text(status) == "Remlampen: OK → Urgent"
            assert change_text({"code": "part", "params": {"part": "vehicle"}}) == (
                "Vehicle data changed"
            )
        with force_locale("nl"):
            assert version.change_texts() == ["Eerste versie."]
            assert "Advies: 1" in change_text(advice) and "12,50" in change_text(advice)
        assert change_text("Eerste versie.") == "Eerste versie."


def test_issue14_openapi_documents_the_rows_reason_code(world, api_client):
    """R-X-4: the OpenAPI description names the rows' fields, reason_code included."""
    paths = api_client("admin").get("/api/v1/_openapi").get_json()["paths"]
    rows = paths["/api/v1/batch_job/{pk}/rows"]["get"]
    schema = rows["responses"]["200"]["content"]["application/json"]["schema"]
    fields = schema["properties"]["result"]["items"]["properties"]
    assert {"row_number", "plate", "email", "outcome", "reason", "reason_code"} <= set(fields)
