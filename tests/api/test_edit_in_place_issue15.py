"""Issue 15 (R-PP-1, R-PP-7, R-X-4): PUT /api/v1/passport/<id> takes the fields the
profile edits, with the same rule (services.passports.update_passport)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from admin_app.models import AuditLog, Passport

RESULT_FIELDS = {
    "id",
    "plate",
    "plate_display",
    "state",
    "email",
    "customer_id",
    "garage_id",
    "fleet_account_id",
    "stock_car",
    "brand",
    "model",
    "apk_expiry",
    # Issue 18: the vehicle register's values.
    "fuel",
    "first_registration",
    "register_checked_on",
    "open_recall_count",
}


def a_car(world, **filters) -> Passport:
    jansen = world.garage("Autobedrijf Jansen").id
    return next(
        p
        for p in world.passports(garage_id=jansen, **filters)
        if not p.stock_car and not p.fleet_account_id
    )


def test_issue15_put_takes_the_profiles_fields_and_keeps_the_result_as_spec(world, api_client):
    """R-PP-1: fuel, dates, odometer and the owner's details; result fields as SPEC says."""
    car = a_car(world, state="sent")
    response = api_client("garage-jansen").put(
        f"/api/v1/passport/{car.id}",
        json={
            "model": "Kever",
            "fuel": "waterstof",
            "first_registration": "1999-04-01",
            "next_service": "01-09-2031",
            "mobility_renewal": "2031-10-01",
            "odometer": 168702,
            "postcode": "3542ad",
            "phone": "030-1234567",
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "result"} and set(body["result"]) == RESULT_FIELDS
    world.session.expire_all()
    car = world.session.get(Passport, car.id)
    assert (car.model, car.fuel, car.odometer) == ("Kever", "waterstof", 168702)
    assert (car.first_registration, car.next_service) == (dt.date(1999, 4, 1), dt.date(2031, 9, 1))
    assert (car.owner.postcode, car.owner.phone) == ("3542 AD", "030-1234567")
    entry = world.session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == "passport", AuditLog.record_id == car.id)
        .order_by(AuditLog.id.desc())
    ).first()
    assert entry.actor_name == "garage-jansen"
    assert set(entry.changes) == {
        "model",
        "fuel",
        "first_registration",
        "next_service",
        "mobility_renewal",
        "odometer",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("apk_expiry", 20270101),  # a number for a date
        ("next_service", "31-02-2027"),
        ("city", "x" * 100_000),
        ("model", ["Golf"]),
        ("odometer", "12k"),
        ("odometer", [1]),
        ("odometer", True),
        ("postcode", "12345"),
        ("first_registration", {"year": 2020}),
    ],
)
def test_issue15_bad_types_are_422_in_the_contracts_shape(world, api_client, field, value):
    """R-X-4: never a 500; the field named; nothing written."""
    car = a_car(world, state="created")
    before = (car.model, car.brand)
    response = api_client("garage-jansen").put(
        f"/api/v1/passport/{car.id}", json={"model": "Nieuw", field: value}
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"message", "errors"} and field in body["errors"]
    world.session.expire_all()
    car = world.session.get(Passport, car.id)
    assert (car.model, car.brand) == before


def test_issue15_refusals_in_english_on_request(world, api_client):
    car = a_car(world, state="created")
    response = api_client("garage-jansen").put(
        f"/api/v1/passport/{car.id}?_l_=en", json={"odometer": "12k"}
    )
    assert response.status_code == 422
    assert "is not an odometer reading" in response.get_json()["errors"]["odometer"][0]


def test_issue15_a_nul_is_refused_before_any_rule(world, api_client):
    """PostgreSQL refuses NUL in text (a 500): the input guard answers 400 in the
    contract's shape for any endpoint; update_passport refuses it too (service test)."""
    car = a_car(world, state="created")
    response = api_client("garage-jansen").put(
        f"/api/v1/passport/{car.id}", json={"brand": "Saab\u0000"}
    )
    assert response.status_code == 400 and set(response.get_json()) == {"message", "errors"}


# Neither role has "write" on passports: the API answers as for any route a role lacks.
@pytest.mark.parametrize(("username", "status"), [("support", 404), ("fleet-bakker", 404)])
def test_issue15_put_refused_to_who_may_not_edit(world, api_client, username, status):
    """Support corrects e-mail addresses only; a fleet manager reads his fleet's cars."""
    fleet = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet)[0]
    response = api_client(username).put(f"/api/v1/passport/{car.id}", json={"model": "X"})
    assert response.status_code == status
    world.session.expire_all()
    assert world.session.get(Passport, car.id).model != "X"


def test_issue15_openapi_documents_the_put_fields(world, api_client):
    """SPEC's API contract: PUT /passport/<id> is described with the fields it takes."""
    document = api_client("admin").get("/api/v1/_openapi").get_json()
    put = document["paths"]["/api/v1/passport/{pk}"]["put"]
    schema = put["requestBody"]["content"]["application/json"]["schema"]
    # issue 16: the body is the endpoint's input schema, a component
    name = schema["$ref"].rsplit("/", 1)[-1]
    body = document["components"]["schemas"][name]["properties"]
    assert {"fuel", "first_registration", "next_service", "mobility_renewal", "odometer"} <= set(
        body
    )
    assert {"brand", "model", "apk_expiry", "email", "postcode", "fleet_account_id"} <= set(body)
