"""R-FL through the API: fleet accounts, link/unlink, the fleet manager's transfers."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import FleetAccount


def managers(world):
    return {f.manager_passport_id for f in world.session.scalars(select(FleetAccount))}


def candidate(world):
    jansen = world.garage("Autobedrijf Jansen")
    return next(
        p
        for p in world.passports(garage_id=jansen.id, state="activated")
        if not p.stock_car and not p.fleet_account_id and p.id not in managers(world)
    )


def test_r_fl_1_post_fleet_account_and_read_it_back(world, api_client):
    manager = candidate(world)
    api = api_client("garage-jansen")
    response = api.post(
        "/api/v1/fleet_account/",
        json={
            "name": "Loodgieter BV",
            "email": "wagenpark@loodgieter.nl",
            "manager_passport_id": manager.id,
        },
    )
    assert response.status_code == 201, response.get_json()
    result = response.get_json()["result"]
    assert result["manager_passport_id"] == manager.id and result["name"] == "Loodgieter BV"
    again = api.post(
        "/api/v1/fleet_account/",
        json={
            "name": "Dubbel",
            "email": "wagenpark@loodgieter.nl",
            "manager_passport_id": manager.id,
        },
    )
    assert again.status_code == 409


def test_r_fl_1_refusals_in_the_contract_shape(world, api_client):
    manager = candidate(world)
    api = api_client("garage-jansen")
    same = api.post(
        "/api/v1/fleet_account/",
        json={"name": "X", "email": manager.owner.email, "manager_passport_id": manager.id},
    )
    assert same.status_code == 422 and "email" in same.get_json()["errors"]
    bad = api.post(
        "/api/v1/fleet_account/",
        json={"name": "", "email": "piet@", "manager_passport_id": manager.id},
    )
    assert bad.status_code == 422 and {"name", "email"} <= set(bad.get_json()["errors"])


def test_r_fl_2_put_moves_the_account_to_a_new_address(world, api_client):
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Autobedrijf Jansen").id)
    ).one()
    response = api_client("garage-jansen").put(
        f"/api/v1/fleet_account/{fleet.id}", json={"email": "p.bakker.fleet@bakker.nl"}
    )
    assert response.status_code == 200
    assert response.get_json()["result"]["email"] == "p.bakker.fleet@bakker.nl"


def test_r_fl_3_put_and_delete_fleet_link(world, api_client):
    car = candidate(world)
    fleet_id = world.user("fleet-bakker").fleet_account_id
    api = api_client("garage-jansen")
    linked = api.put(f"/api/v1/passport/{car.id}/fleet", json={"fleet_account_id": fleet_id})
    assert linked.status_code == 200 and linked.get_json()["result"]["fleet_account_id"] == fleet_id
    unlinked = api.delete(f"/api/v1/passport/{car.id}/fleet")
    assert unlinked.status_code == 200 and unlinked.get_json()["result"]["fleet_account_id"] is None


def test_r_fl_3_linking_to_another_garages_fleet_is_refused(world, api_client):
    devries_fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Garage De Vries").id)
    ).one()
    response = api_client("garage-jansen").put(
        f"/api/v1/passport/{candidate(world).id}/fleet", json={"fleet_account_id": devries_fleet.id}
    )
    assert response.status_code == 422


def test_r_fl_5_fleet_manager_sees_exactly_his_cars_and_404_for_others(world, api_client):
    fleet_id = world.user("fleet-bakker").fleet_account_id
    api = api_client("fleet-bakker")
    body = api.get("/api/v1/passport/").get_json()
    assert body["count"] == 5 and {r["fleet_account_id"] for r in body["result"]} == {fleet_id}
    assert api.get(f"/api/v1/passport/{candidate(world).id}").status_code == 404


def test_r_fl_5_fleet_manager_driver_change_and_transfer_kinds(world, api_client):
    fleet_id = world.user("fleet-bakker").fleet_account_id
    first, second = world.passports(fleet_account_id=fleet_id)[:2]
    api = api_client("fleet-bakker")
    driver = api.post(
        f"/api/v1/passport/{first.id}/transfer",
        json={"kind": "driver", "email": "chauffeur@example.nl", "last_name": "Chauffeur"},
    )
    assert driver.status_code == 200 and driver.get_json()["result"]["kind"] == "driver"
    owner = api.post(
        f"/api/v1/passport/{second.id}/transfer",
        json={"kind": "owner", "email": "koper@example.nl", "last_name": "Koper"},
    )
    assert owner.status_code == 200 and owner.get_json()["result"]["state"] == "pending"
    assert api.get("/api/v1/passport/").get_json()["count"] == 5  # both still in the fleet
