"""R-CP-2 via the API contract: /api/v1/contact_proposal/ and /api/v1/invoice/."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from admin_app.models import ContactProposal


def test_r_cp_2_list_and_decide_then_409_once_closed(world, api_client):
    client = api_client("garage-jansen")
    listed = client.get("/api/v1/contact_proposal/?q=(filters:!((col:closed,opr:eq,value:!f)))")
    assert listed.status_code == 200, listed.json
    open_ids = listed.json["ids"]
    assert open_ids, "the demo has proposals for the open week"
    item = listed.json["result"][0]
    assert set(item) >= {
        "id",
        "week",
        "customer_id",
        "passport_id",
        "reason",
        "predicted_date",
        "decision",
        "closed",
    }
    answer = client.put(f"/api/v1/contact_proposal/{open_ids[0]}", json={"decision": "no"})
    assert answer.status_code == 200 and answer.json["result"]["decision"] == "no"
    bad = client.put(f"/api/v1/contact_proposal/{open_ids[0]}", json={"decision": "misschien"})
    assert bad.status_code == 422
    closed = world.session.scalars(
        select(ContactProposal).where(
            ContactProposal.closed.is_(True),
            ContactProposal.garage_id == world.garage("Autobedrijf Jansen").id,
        )
    ).first()
    refused = client.put(f"/api/v1/contact_proposal/{closed.id}", json={"decision": "no"})
    assert refused.status_code == 409 and "gesloten" in refused.json["message"]
    other = api_client("garage-devries").put(
        f"/api/v1/contact_proposal/{open_ids[0]}", json={"decision": "yes"}
    )
    assert other.status_code == 404


def test_r_cp_1_an_invoice_through_the_api(world, api_client):
    client = api_client("garage-jansen")
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[0]
    created = client.post(
        "/api/v1/invoice/",
        json={
            "invoice_date": dt.date.today().isoformat(),
            "plate": car.plate_display,
            "amount": "1.234,56",
            "kind": "onderhoud",
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["result"]["amount_cents"] == 123456
    assert created.json["result"]["customer_id"] == car.owner_id  # by the plate's owner
    bad = client.post("/api/v1/invoice/", json={"invoice_date": "gisteren", "plate": "x"})
    assert bad.status_code == 422
