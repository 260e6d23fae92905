"""Issue 18 through the API: a passport created without brand comes back filled in from
the vehicle register; the result's register fields; GET /passport/<id>/recalls and who
may read it (the role matrix of the new route)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_app.models import Passport, Recall

GOLF = {
    "plate": "7-ztk-17",
    "email": "k.golf@example.nl",
    "first_name": "Kees",
    "last_name": "Golf",
}


def test_issue18_post_without_brand_comes_back_as_the_registers_golf(world, api_client):
    """Issue 18 (every car filled in): POST /api/v1/passport/ without brand, model or APK:
    the result and GET answer Volkswagen Golf with its APK date, fuel, first registration,
    the day the register was read and the open recalls' count; nothing is stored."""
    api = api_client("garage-jansen")
    response = api.post("/api/v1/passport/", json=GOLF)
    assert response.status_code == 201, response.get_json()
    result = response.get_json()["result"]
    expected = {
        "brand": "Volkswagen",
        "model": "Golf",
        "fuel": "Benzine",
        "apk_expiry": "2027-08-11",
        "first_registration": "2022-08-13",
        "open_recall_count": 0,
    }
    assert {k: result[k] for k in expected} == expected
    assert result["register_checked_on"]
    again = api.get(f"/api/v1/passport/{result['id']}").get_json()["result"]
    assert again == result
    listed = api.get("/api/v1/passport/?q=(filters:!((col:plate,opr:eq,value:'7ZTK17')))")
    assert listed.get_json()["result"] == [result]
    stored = world.session.get(Passport, result["id"])
    assert (stored.brand, stored.model, stored.apk_expiry) == (None, None, None)


def test_issue18_a_typed_brand_counts_and_an_unknown_plate_has_no_register_date(world, api_client):
    """Issue 18: what was typed and differs stays; a plate the register never held has
    register_checked_on null and its typed values."""
    api = api_client("garage-jansen")
    typed = api.post("/api/v1/passport/", json={**GOLF, "model": "Golf Variant"}).get_json()
    assert (typed["result"]["brand"], typed["result"]["model"]) == ("Volkswagen", "Golf Variant")
    unknown = {**GOLF, "plate": "X-999-ZZ", "email": "n@example.nl", "brand": "Volvo"}
    result = api.post("/api/v1/passport/", json=unknown).get_json()["result"]
    assert (result["brand"], result["model"], result["register_checked_on"]) == (
        "Volvo",
        None,
        None,
    )


def _passport_with_open_recall(world, garage_name="Autobedrijf Jansen"):
    s = world.session
    garage = world.garage(garage_name)
    return s.scalars(
        select(Passport)
        .join(Recall, Recall.plate == Passport.plate)
        .where(Passport.garage_id == garage.id, Recall.status == "O")
        .order_by(Passport.id)
    ).first()


def test_issue18_recalls_lists_the_open_recalls_of_a_passport_in_scope(world, api_client):
    """Issue 18: GET /api/v1/passport/<id>/recalls lists the open recalls with description
    and remedy; the count in the passport's result agrees; another garage's passport is
    404 in the contract's shape."""
    passport = _passport_with_open_recall(world)
    api = api_client("garage-jansen")
    response = api.get(f"/api/v1/passport/{passport.id}/recalls")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == passport.id and body["count"] == len(body["result"]) >= 1
    first = body["result"][0]
    assert set(first) == {"reference", "description", "remedy", "consequences", "published_on"}
    assert first["description"] and first["remedy"]
    result = api.get(f"/api/v1/passport/{passport.id}").get_json()["result"]
    assert result["open_recall_count"] == body["count"]
    other = api_client("garage-devries").get(f"/api/v1/passport/{passport.id}/recalls")
    assert other.status_code == 404
    assert other.get_json() == {"message": "Niet gevonden.", "errors": {}}


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("garage-jansen", 200),
        ("garage-devries", 404),
        ("support", 200),
        ("admin", 200),
        ("fleet-bakker", 404),
        ("eigenaar", 404),
    ],
)
def test_issue18_role_matrix_of_passport_recalls(world, api_client, username, status):
    """Issue 18, the role matrix of GET /api/v1/passport/<id>/recalls on a Jansen car that
    is in no fleet and not the demo owner's: who reads the passport reads its recalls."""
    passport = _passport_with_open_recall(world)
    assert passport.fleet_account_id is None
    response = api_client(username).get(f"/api/v1/passport/{passport.id}/recalls")
    assert response.status_code == status, response.get_json()


def test_issue18_a_fleet_manager_reads_the_recalls_of_a_linked_car(world, api_client):
    """Issue 18: a car of his fleet answers 200 (his scope, not the garage's); an Owner
    has no passport API at all (roles.py), so his is 404 like any other."""
    s = world.session
    linked = s.scalars(
        select(Passport).where(Passport.fleet_account_id.is_not(None)).order_by(Passport.id)
    ).first()
    response = api_client("fleet-bakker").get(f"/api/v1/passport/{linked.id}/recalls")
    assert response.status_code == 200
    assert response.get_json()["count"] == len(response.get_json()["result"])
    owner = api_client("eigenaar").get(f"/api/v1/passport/{linked.id}/recalls")
    assert owner.status_code == 404


def test_issue18_attack_a_result_narrowed_by_columns_still_reads_the_register(api_client):
    """Issue 18 (attack): `q=(columns:…)` leaves "id" out of each result, and the register's
    values were filled in by it: brand, fuel and APK expiry came back null for a car the
    register knows (the typed value only). Now the asked columns count as everywhere."""
    api = api_client("garage-jansen")
    made = api.post(
        "/api/v1/passport/",
        json={"plate": "7ZTK17", "email": "kolommen@example.nl", "last_name": "Kolom"},
    )
    assert made.status_code == 201, made.get_json()
    pk = made.get_json()["id"]
    one = api.get(f"/api/v1/passport/{pk}?q=(columns:!(brand,fuel,apk_expiry))")
    assert one.get_json()["result"] == {
        "brand": "Volkswagen",
        "fuel": "Benzine",
        "apk_expiry": "2027-08-11",
    }
    listed = api.get(
        "/api/v1/passport/?q=(columns:!(plate,brand,fuel),"
        "filters:!((col:plate,opr:eq,value:'7ZTK17')))"
    )
    assert listed.get_json()["result"] == [
        {"plate": "7ZTK17", "brand": "Volkswagen", "fuel": "Benzine"}
    ]
