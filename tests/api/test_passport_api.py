"""R-PP and R-TR through the API contract: flat results, refusals in the contract shape."""

from __future__ import annotations

import re

import prison
import pytest
from sqlalchemy import func, select

from admin_app.models import OutboxMessage, Passport, Transfer
from tests.mails import mail_text

NEW = {
    "plate": "x-999-zz",
    "email": "Nieuw.Klant@Example.nl",
    "first_name": "Nina",
    "last_name": "Klant",
    "brand": "Volvo",
    "model": "V60",
    "apk_expiry": "2027-03-01",
}


def count(world, model):
    world.session.expire_all()
    return world.session.scalar(select(func.count()).select_from(model))


def test_r_pp_6_post_creates_a_passport_with_the_same_rules(world, api_client):
    response = api_client("garage-jansen").post("/api/v1/passport/", json=NEW)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    result = body["result"]
    assert body["id"] == result["id"]
    assert (result["plate"], result["plate_display"]) == ("X999ZZ", "X-999-ZZ")
    assert result["state"] == "created" and result["email"] == "Nieuw.Klant@example.nl"
    assert result["apk_expiry"] == "2027-03-01" and result["stock_car"] is False
    assert world.session.get(Passport, body["id"]).created_via == "api"


def test_r_pp_3_post_with_the_garage_email_makes_a_stock_car(world, api_client):
    body = (
        api_client("garage-jansen")
        .post(
            "/api/v1/passport/",
            json={"plate": "12-ABC-3", "email": "werkplaats@autobedrijf-jansen.nl"},
        )
        .get_json()
    )
    assert body["result"]["stock_car"] is True and body["result"]["state"] == "activated"


@pytest.mark.parametrize(
    "field, value",
    [
        ("plate", "AB-12"),
        ("plate", "1234567"),
        ("plate", "AA-AA-AA"),
        ("email", "jan@@x.nl"),
        ("email", "piet@"),
        ("email", "a b@c.nl"),
        ("last_name", ""),
        ("apk_expiry", "31-02-2027"),
    ],
)
def test_bad_fields_are_422_in_dutch_and_nothing_is_written(world, api_client, field, value):
    before = (count(world, Passport), count(world, OutboxMessage))
    response = api_client("garage-jansen").post("/api/v1/passport/", json={**NEW, field: value})
    assert response.status_code == 422
    body = response.get_json()
    assert field in body["errors"] and body["message"]
    assert (count(world, Passport), count(world, OutboxMessage)) == before


def test_bad_fields_in_english_on_request(world, api_client):
    response = api_client("garage-jansen").post(
        "/api/v1/passport/?_l_=en", json={**NEW, "plate": "AA-AA-AA"}
    )
    assert "not a Dutch licence plate" in response.get_json()["errors"]["plate"][0]


@pytest.mark.parametrize("payload", ["{not json", "[1, 2]"])
def test_malformed_json_is_400(world, api_client, payload):
    response = api_client("garage-jansen").post(
        "/api/v1/passport/", data=payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.get_json()) == {"message", "errors"}


def test_r_pp_8_plate_live_elsewhere_is_409_without_the_garage(world, api_client):
    other = world.passports(garage_id=world.garage("Garage De Vries").id, state="sent")[0]
    response = api_client("garage-jansen").post(
        "/api/v1/passport/", json={**NEW, "plate": other.plate_display}
    )
    assert response.status_code == 409
    assert "Garage De Vries" not in response.get_data(as_text=True)


def test_r_pp_4_send_and_activate_by_link(world, api_client, app):
    api = api_client("garage-jansen")
    passport_id = api.post("/api/v1/passport/", json=NEW).get_json()["id"]
    sent = api.post(f"/api/v1/passport/{passport_id}/send")
    assert sent.status_code == 200 and sent.get_json()["result"]["state"] == "sent"
    mail = world.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    link = re.search(r"/activate/\S+", mail_text(world.session, mail)).group(0)
    client = app.test_client()
    page = client.get(link).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = client.post(
        link,
        data={
            "csrf_token": token,
            "password": "geheim-wachtwoord",
            "conf_password": "geheim-wachtwoord",
        },
    )
    assert done.status_code == 302 and "/my-vehicles/" in done.headers["Location"]
    api_client("nieuw.klant@example.nl", password="geheim-wachtwoord")  # his login works
    assert api.get(f"/api/v1/passport/{passport_id}").get_json()["result"]["state"] == "activated"


def test_r_pp_7_put_email_refused_to_garage_after_activation_allowed_to_support(world, api_client):
    activated = next(
        p
        for p in world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")
        if not p.stock_car
    )
    refused = api_client("garage-jansen").put(
        f"/api/v1/passport/{activated.id}", json={"email": "ander@example.nl"}
    )
    assert refused.status_code == 409 and "supportdesk" in refused.get_json()["message"]
    changed = api_client("support").put(
        f"/api/v1/customer/{activated.owner_id}", json={"email": "ander@example.nl"}
    )
    assert changed.status_code == 200
    assert changed.get_json()["result"]["email"] == "ander@example.nl"
    name_change = api_client("support").put(
        f"/api/v1/customer/{activated.owner_id}", json={"last_name": "Anders"}
    )
    assert name_change.status_code == 403


def test_put_updates_vehicle_fields_and_refuses_a_new_plate(world, api_client):
    api = api_client("garage-jansen")
    passport_id = api.post("/api/v1/passport/", json=NEW).get_json()["id"]
    updated = api.put(f"/api/v1/passport/{passport_id}", json={"brand": "Saab", "model": "900"})
    assert updated.status_code == 200
    assert (updated.get_json()["result"]["brand"], updated.get_json()["id"]) == (
        "Saab",
        passport_id,
    )
    plate = api.put(f"/api/v1/passport/{passport_id}", json={"plate": "12-ABC-3"})
    assert plate.status_code == 422 and "plate" in plate.get_json()["errors"]


def test_r_tr_api_transfer_of_a_stock_car_and_the_transfer_list(world, api_client):
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, stock_car=True)[0]
    api = api_client("garage-jansen")
    response = api.post(
        f"/api/v1/passport/{car.id}/transfer",
        json={"kind": "owner", "email": "koper@example.nl", "last_name": "Koper"},
        headers={"Idempotency-Key": "tab-1"},
    )
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["result"]
    assert set(result) == {
        "id",
        "passport_id",
        "kind",
        "state",
        "to_email",
        "created_by",
        "created_at",
    }
    assert (result["passport_id"], result["state"], result["created_by"]) == (
        car.id,
        "accepted",
        "garage-jansen",
    )
    again = api.post(
        f"/api/v1/passport/{car.id}/transfer",
        json={"kind": "owner", "email": "koper@example.nl", "last_name": "Koper"},
        headers={"Idempotency-Key": "tab-1"},
    )
    assert again.get_json()["id"] == result["id"]
    listed = api.get(
        "/api/v1/transfer/?q="
        + prison.dumps({"filters": [{"col": "passport", "opr": "rel_o_m", "value": car.id}]})
    ).get_json()
    assert listed["count"] == 1


def test_r_tr_4_fleet_car_transfer_by_the_garage_is_409(world, api_client):
    car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    response = api_client("garage-jansen").post(
        f"/api/v1/passport/{car.id}/transfer", json={"email": "x@example.nl", "last_name": "X"}
    )
    assert response.status_code == 409
    assert "wagenpark" in response.get_json()["message"]


def test_r_tr_2_cancel_a_pending_transfer(world, api_client):
    pending = world.session.scalars(select(Transfer).where(Transfer.state == "pending")).first()
    api = api_client(
        "garage-jansen"
        if pending.garage_id == world.garage("Autobedrijf Jansen").id
        else "garage-devries"
    )
    response = api.post(f"/api/v1/transfer/{pending.id}/cancel")
    assert response.status_code == 200 and response.get_json()["result"]["state"] == "cancelled"
    again = api.post(f"/api/v1/transfer/{pending.id}/cancel")
    assert again.status_code == 409


def test_r_pp_8_archive_then_the_plate_is_free(world, api_client):
    api = api_client("garage-jansen")
    passport_id = api.post("/api/v1/passport/", json=NEW).get_json()["id"]
    assert (
        api.post(f"/api/v1/passport/{passport_id}/archive").get_json()["result"]["state"]
        == "archived"
    )
    assert api.post("/api/v1/passport/", json=NEW).status_code == 201


def test_r_pp_8_support_moves_a_passport_garage_cannot(world, api_client):
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[0]
    devries = world.garage("Garage De Vries").id
    assert (
        api_client("garage-jansen")
        .post(f"/api/v1/passport/{passport.id}/move", json={"garage_id": devries})
        .status_code
        == 404
    )
    moved = api_client("support").post(
        f"/api/v1/passport/{passport.id}/move", json={"garage_id": devries}
    )
    assert moved.status_code == 200 and moved.get_json()["result"]["garage_id"] == devries


def test_another_garages_passport_is_404_for_every_action(world, api_client):
    other = world.passports(garage_id=world.garage("Garage De Vries").id, state="created")[0]
    api = api_client("garage-jansen")
    for action in ("send", "transfer", "archive"):
        assert api.post(f"/api/v1/passport/{other.id}/{action}", json={}).status_code == 404
    assert api.put(f"/api/v1/passport/{other.id}", json={"brand": "X"}).status_code == 404
    assert api.put(f"/api/v1/customer/{other.owner_id}", json={"brand": "X"}).status_code == 404
