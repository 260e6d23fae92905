"""Issue 19, R-DR-2 through the API: POST /api/v1/customer/<id>/erase."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_app.models import Customer, Passport, Transfer

BODY = {"reason": "Verzoek van de klant", "requested_on": "2026-12-01"}


def quiet_customer(world) -> Customer:
    """A demo customer of Jansen with no pending transfer, fleet or waiting list."""
    session = world.session
    jansen = world.garage("Autobedrijf Jansen")
    pending = Transfer.state == "pending"
    busy = (
        select(Transfer.to_customer_id)
        .where(pending)
        .union(select(Transfer.from_customer_id).where(pending))
    )
    return session.scalars(
        select(Customer)
        .join(Passport, Passport.owner_id == Customer.id)
        .where(
            Customer.garage_id == jansen.id,
            Passport.state == "activated",
            Passport.fleet_account_id.is_(None),
            Customer.id.not_in(busy),
        )
        .order_by(Customer.id)
    ).first()


def test_issue19_support_erases_a_customer_and_gets_him_back_anonymized(world, api_client):
    """R-DR-2: 200 with the anonymized customer; a second call changes nothing."""
    customer = quiet_customer(world)
    support = api_client("support")
    response = support.post(f"/api/v1/customer/{customer.id}/erase", json=BODY)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["result"]
    assert result["last_name"] == "verwijderd"
    assert result["email"] == f"verwijderd-{customer.id}@verwijderd.invalid"
    assert result["phone"] is None and result["street"] is None
    again = support.post(f"/api/v1/customer/{customer.id}/erase", json=BODY)
    assert again.status_code == 200 and again.get_json()["result"] == result


@pytest.mark.parametrize("username", ["garage-jansen", "admin", "eigenaar", "fleet-bakker"])
def test_issue19_only_support_may_erase(world, api_client, username):
    """R-DR-2 (SPEC roles): everyone else is refused and the customer stays."""
    customer = quiet_customer(world)
    response = api_client(username).post(f"/api/v1/customer/{customer.id}/erase", json=BODY)
    assert response.status_code in (403, 404), (username, response.status_code)
    world.session.expire_all()
    assert world.session.get(Customer, customer.id).last_name != "verwijderd"


def test_issue19_a_refusal_is_409_with_its_reason(world, api_client):
    """R-DR-2: the demo Owner's pending transfer refuses the erase, in words."""
    receiving = world.session.scalars(
        select(Customer)
        .join(Transfer, Transfer.to_customer_id == Customer.id)
        .where(Transfer.state == "pending")
    ).first()
    response = api_client("support").post(f"/api/v1/customer/{receiving.id}/erase", json=BODY)
    assert response.status_code == 409
    assert "lopende overdracht" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": 12, "requested_on": "2026-12-01"}, "reason"),
        ({"reason": "x" * 100_000, "requested_on": "2026-12-01"}, "reason"),
        ({"reason": "Verzoek", "requested_on": "2999-01-01"}, "requested_on"),
        ({"reason": "Verzoek"}, "requested_on"),
        ({}, "reason"),
    ],
)
def test_issue19_bad_input_is_422_naming_the_field(world, api_client, body, field):
    """R-DR-2: the contract's 422 shape, nothing erased."""
    customer = quiet_customer(world)
    response = api_client("support").post(f"/api/v1/customer/{customer.id}/erase", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_issue19_a_nul_character_is_refused_as_everywhere(world, api_client):
    """R-DR-2: NUL is refused by the input guard of every endpoint (400, issue 13)."""
    customer = quiet_customer(world)
    body = {"reason": "a\x00b", "requested_on": "2026-12-01"}
    response = api_client("support").post(f"/api/v1/customer/{customer.id}/erase", json=body)
    assert response.status_code == 400
    assert world.session.get(Customer, customer.id).last_name != "verwijderd"


def test_issue19_erasing_no_customer_is_404(world, api_client):
    """R-SEC-1: an id that names no row."""
    assert api_client("support").post("/api/v1/customer/999999/erase", json=BODY).status_code == 404
