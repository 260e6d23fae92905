"""R-IN via the API contract: /api/v1/inspection_form/…"""

from __future__ import annotations

import io

from pypdf import PdfReader


def _passport_id(world):
    return world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[1].id


def test_r_in_2_5_7_create_edit_save_and_print_through_the_api(world, api_client):
    client = api_client("garage-jansen")
    created = client.post(
        "/api/v1/inspection_form/",
        json={
            "kind": "all_ok",
            "passport_id": _passport_id(world),
            "inspector": "Piet",
            "inspection_date": "2026-11-20",
        },
    )
    assert created.status_code == 201, created.json
    form_id = created.json["id"]
    assert created.json["result"]["is_draft"] is True
    assert client.get(f"/api/v1/inspection_form/{form_id}/pdf").status_code == 409
    first = created.json["result"]["content"]["results"][0]
    edited = client.put(
        f"/api/v1/inspection_form/{form_id}",
        json={
            "results": [{"checkpoint_id": first["checkpoint_id"], "status": "advice"}],
            "advice": [{"description": "Banden", "price": "1.234,56"}],
        },
    )
    assert edited.status_code == 200, edited.json
    bad = client.put(
        f"/api/v1/inspection_form/{form_id}", json={"advice": [{"description": "x", "price": "-1"}]}
    )
    assert bad.status_code == 422 and "negatief" in bad.json["message"]
    saved = client.post(f"/api/v1/inspection_form/{form_id}/save")
    assert saved.status_code == 200 and saved.json["result"]["version"] == 1
    pdf = client.get(f"/api/v1/inspection_form/{form_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split()
    )
    assert "€ 1.234,56" in text
    listed = client.get("/api/v1/inspection_form/")
    assert form_id in listed.json["ids"]


def test_r_in_1_another_garages_form_is_404(world, api_client):
    jansen = api_client("garage-jansen")
    created = jansen.post(
        "/api/v1/inspection_form/",
        json={"kind": "blank", "inspector": "Piet", "inspection_date": "2026-11-20"},
    )
    form_id = created.json["id"]
    devries = api_client("garage-devries")
    for method, path in [
        ("get", f"/api/v1/inspection_form/{form_id}"),
        ("put", f"/api/v1/inspection_form/{form_id}"),
        ("post", f"/api/v1/inspection_form/{form_id}/save"),
        ("get", f"/api/v1/inspection_form/{form_id}/pdf"),
    ]:
        assert getattr(devries, method)(path, json={}).status_code == 404, path


def test_r_in_1_an_invitation_is_registered_through_the_api(world, api_client):
    client = api_client("garage-jansen")
    response = client.post(
        "/api/v1/inspection_invitation/",
        json={"passport_id": _passport_id(world), "wanted_date": "2026-12-01"},
    )
    assert response.status_code == 201, response.json
