"""R-X-4: the API contract of SPEC — flat results with id, the error shape, 404 outside
scope, 405, rate-limited login, Dutch by default and English with ?_l_=en."""

import prison
import pytest

from tests.conftest import CSRF_RE


def q(**kwargs) -> str:
    return "?q=" + prison.dumps(kwargs)


def test_list_and_get_are_flat_with_id(world, api_client):
    api = api_client("garage-jansen")
    listing = api.get(
        "/api/v1/passport/" + q(page_size=5, order_column="id", order_direction="asc")
    )
    assert listing.status_code == 200
    body = listing.get_json()
    assert set(body) >= {"count", "ids", "result"} and len(body["result"]) == 5
    item = body["result"][0]
    assert set(item) == {
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
        # Issue 18: what the vehicle register adds.
        "fuel",
        "first_registration",
        "register_checked_on",
        "open_recall_count",
    }
    assert all(not isinstance(v, (dict, list)) for v in item.values())
    one = api.get(f"/api/v1/passport/{item['id']}").get_json()
    assert one["id"] == item["id"] and one["result"]["id"] == item["id"]
    assert one["result"] == item


def test_plate_filter_accepts_any_notation(world, api_client):
    api = api_client("garage-jansen")
    plate = world.passports(garage_id=world.garage("Autobedrijf Jansen").id)[3].plate_display
    for notation in (plate, plate.replace("-", "").lower(), plate.replace("-", " ")):
        for operation, value in (("eq", notation), ("sw", notation[:4]), ("ct", notation[2:6])):
            body = api.get(
                "/api/v1/passport/"
                + q(filters=[{"col": "plate", "opr": operation, "value": value}])
            ).get_json()
            assert plate in [r["plate_display"] for r in body["result"]], (operation, value)


def test_count_and_filters_stay_within_scope(world, api_client):
    devries = world.garage("Garage De Vries")
    api = api_client("garage-jansen")
    body = api.get(
        "/api/v1/passport/" + q(filters=[{"col": "garage", "opr": "rel_o_m", "value": devries.id}])
    ).get_json()
    assert body["count"] == 0 and body["result"] == []
    everything = api.get("/api/v1/passport/").get_json()
    assert everything["count"] == len(
        world.passports(garage_id=world.garage("Autobedrijf Jansen").id)
    )


def test_another_tenants_record_is_404_in_the_contract_shape(world, api_client):
    other = world.passports(garage_id=world.garage("Garage De Vries").id)[0]
    response = api_client("garage-jansen").get(f"/api/v1/passport/{other.id}")
    assert response.status_code == 404
    assert response.get_json() == {"message": "Niet gevonden.", "errors": {}}
    english = api_client("garage-jansen").get(f"/api/v1/passport/{other.id}?_l_=en")
    assert english.get_json()["message"] == "Not found."


def test_a_role_without_the_resource_gets_404_not_403(world, api_client):
    response = api_client("eigenaar").get("/api/v1/outbox/")
    assert response.status_code == 404


def test_method_not_offered_is_405_and_bad_rison_is_400(world, api_client):
    api = api_client("garage-jansen")
    response = api.delete("/api/v1/passport/1")
    assert response.status_code == 405
    assert set(response.get_json()) == {"message", "errors"}
    bad = api.get("/api/v1/passport/?q=(((")
    assert bad.status_code == 400
    assert set(bad.get_json()) == {"message", "errors"}


def test_missing_or_forged_jwt_is_401_in_the_contract_shape(world, api_client):
    anonymous = api_client(None)
    response = anonymous.get("/api/v1/passport/")
    assert response.status_code == 401
    assert set(response.get_json()) == {"message", "errors"}
    forged = anonymous.get("/api/v1/passport/", headers={"Authorization": "Bearer x.y.z"})
    assert forged.status_code == 401


def test_page_size_is_capped_at_100(world, api_client):
    body = api_client("admin").get("/api/v1/passport/" + q(page_size=500)).get_json()
    assert len(body["result"]) <= 100


def test_outbox_api_never_shows_the_body_or_links(world, api_client):
    body = api_client("support").get("/api/v1/outbox/").get_json()
    assert body["result"]
    assert set(body["result"][0]) == {
        "id",
        "recipient",
        "kind",
        "state",
        "attempts",
        "last_error",
        "created_at",
    }


def test_no_response_contains_a_password_hash(world, api_client):
    api = api_client("admin")
    for path in (
        "/api/v1/security/users/",
        "/api/v1/passport/",
        "/api/v1/customer/",
        "/api/v1/fleet_account/",
    ):
        text = api.get(path).get_data(as_text=True)
        assert "scrypt:" not in text and "pbkdf2:" not in text, path


def test_openapi_description_is_served(world, api_client):
    response = api_client("admin").get("/api/v1/_openapi")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    assert "/api/v1/passport/" in paths and "/api/v1/customer/{pk}" in paths


def test_health_reports_database_and_redis(app, world):
    response = app.test_client().get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["database"], body["redis"]) == ("ok", "ok")


@pytest.mark.parametrize("path", ["/api/v1/security/login", "/login/"])
def test_logins_are_rate_limited(app, world, path):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.0.{1 if path.startswith('/api') else 2}"
    statuses = []
    for _ in range(12):
        if path.startswith("/api"):
            response = client.post(
                path, json={"username": "admin", "password": "fout", "provider": "db"}
            )
        else:
            token = CSRF_RE.search(client.get("/login/").get_data(as_text=True)).group(1)
            response = client.post(
                path, data={"username": "admin", "password": "fout", "csrf_token": token}
            )
        statuses.append(response.status_code)
    assert 429 in statuses, statuses
    assert statuses.index(429) >= 10


def test_passports_filter_by_owner_email_eq_and_ct(world, api_client):
    api = api_client("garage-jansen")
    body = api.get(
        "/api/v1/passport/"
        + q(filters=[{"col": "email", "opr": "eq", "value": "EIGENAAR@example.nl"}])
    ).get_json()
    assert body["count"] == 2 and {r["email"] for r in body["result"]} == {"eigenaar@example.nl"}
    body = api.get(
        "/api/v1/passport/"
        + q(filters=[{"col": "email", "opr": "ct", "value": "bouwbedrijf-bakker"}])
    ).get_json()
    assert body["count"] == 6  # the manager's own passport and the 5 fleet cars


@pytest.mark.parametrize(
    "query",
    [
        "(page:-1)",
        "(page_size:abc)",
        "(filters:!((col:nope,opr:eq,value:1)))",
        "(filters:!((col:plate,opr:zz,value:1)))",
        "(order_column:nope)",
        "(filters:x)",
        "(page_size:100000)",
        "(page_size:-5)",
        "(page:'x')",
        "!(1,2)",
    ],
)
def test_bad_list_queries_never_give_a_500(world, api_client, query):
    response = api_client("garage-jansen").get(f"/api/v1/passport/?q={query}")
    assert response.status_code in (200, 400), (query, response.status_code)
    if response.status_code == 400:
        assert set(response.get_json()) == {"message", "errors"}


def test_customers_filter_by_email_ignoring_case_and_last_name(world, api_client):
    api = api_client("garage-jansen")
    body = api.get(
        "/api/v1/customer/"
        + q(filters=[{"col": "email", "opr": "eq", "value": "Eigenaar@Example.NL"}])
    ).get_json()
    assert body["count"] == 1 and body["result"][0]["last_name"] == "Eigenaar"
    body = api.get(
        "/api/v1/customer/" + q(filters=[{"col": "last_name", "opr": "sw", "value": "Eigen"}])
    ).get_json()
    assert body["count"] == 1
