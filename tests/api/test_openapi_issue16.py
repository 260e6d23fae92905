"""Issue 16, R-X-4: the OpenAPI document the app serves is valid and complete, and the
roles that integrate (Garage, Support) may read it."""

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator


def test_issue16_openapi_document_validates(world, api_client):
    """R-X-4: openapi-spec-validator finds no error in /api/v1/_openapi (49 before:
    operations without responses or without their {pk})."""
    document = api_client("garage-jansen").get("/api/v1/_openapi").get_json()
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in OpenAPIV30SpecValidator(document).iter_errors()
    ]
    assert errors == []


@pytest.mark.parametrize("username", ["garage-jansen", "support", "admin"])
def test_issue16_integrators_read_the_document_and_swagger(world, api_client, login_as, username):
    """R-X-4, issue 16: Garage and Support (not only Admin) read the whole document and
    the Swagger UI."""
    response = api_client(username).get("/api/v1/_openapi")
    assert response.status_code == 200
    assert "/api/v1/passport/{pk}/transfer" in response.get_json()["paths"]
    page = login_as(username).get("/swagger/v1")
    assert page.status_code == 200 and b"/api/v1/_openapi" in page.data


@pytest.mark.parametrize("username", ["fleet-bakker", "eigenaar"])
def test_issue16_fleet_manager_and_owner_get_404(world, api_client, login_as, username):
    """R-SEC-1, issue 16: FleetManager and Owner have no API: 404 on both."""
    response = api_client(username).get("/api/v1/_openapi")
    assert response.status_code == 404
    assert set(response.get_json()) == {"message", "errors"}
    assert login_as(username).get("/swagger/v1").status_code == 404


def test_issue16_every_operation_is_complete(world, api_client):
    """R-X-4: every operation of the contract has its {pk}, its refusals in the shared
    shape, the bearer scheme (JWT or API key) and, for a POST that creates or acts, the
    Idempotency-Key header."""
    document = api_client("garage-jansen").get("/api/v1/_openapi").get_json()
    components = document["components"]
    assert "gk_" in components["securitySchemes"]["jwt"]["description"]
    assert set(components["schemas"]["Error"]["required"]) == {"message", "errors"}
    for path, operations in document["paths"].items():
        if "/security/" in path or "_openapi" in path or "/menu/" in path:
            continue
        for method, operation in operations.items():
            where = f"{method} {path}"
            params = {
                p.get("$ref", p.get("name", "")).rsplit("/", 1)[-1]
                for p in operation.get("parameters", [])
            }
            if "{pk}" in path:
                assert "pk" in params, where
            if method == "post":
                assert "idempotency_key" in params, where
            responses = operation["responses"]
            assert {"400", "401", "404", "429"} <= set(responses), where
            if method in ("post", "put", "delete"):
                assert {"409", "413", "422"} <= set(responses), where
            assert any(s in responses for s in ("200", "201", "202")), where
            assert operation["security"] == [{"jwt": []}], where
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                assert "example" in body["application/json"], where
    for name, schema in components["schemas"].items():
        if name.endswith("Api.get") and not name.startswith(("Console", "Group", "Permission")):
            assert "example" in schema, name
    upload = document["paths"]["/api/v1/batch_job/"]["post"]["requestBody"]["content"]
    assert "file" in upload["multipart/form-data"]["schema"]["properties"]


def test_issue16_use_every_operation_has_a_readable_unique_operation_id(world, api_client):
    """R-X-4: a client generator names each call by its operationId; FAB gives none, and
    the generated client read `apiV1PassportPkTransferPost`. Each is unique and readable."""
    document = api_client("garage-jansen").get("/api/v1/_openapi").get_json()
    names = [
        operation.get("operationId")
        for operations in document["paths"].values()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert None not in names
    assert len(names) == len(set(names))
    paths = document["paths"]
    assert paths["/api/v1/passport/"]["get"]["operationId"] == "passport_list"
    assert paths["/api/v1/passport/"]["post"]["operationId"] == "passport_create"
    assert paths["/api/v1/passport/{pk}"]["get"]["operationId"] == "passport_get"
    assert paths["/api/v1/passport/{pk}/transfer"]["post"]["operationId"] == "passport_transfer"
    assert paths["/api/v1/passport/{pk}/fleet"]["delete"]["operationId"] == "passport_delete_fleet"


def test_issue16_use_swaggers_authorize_dialog_offers_what_works(world, api_client):
    """R-X-4: Swagger's Authorize dialog lists the document's security schemes. FAB's
    `api_key` (its own `sst_` keys, used by no operation) came first, and the refresh
    token's scheme read "a JWT or an API key" — one dict shared with `jwt`."""
    document = api_client("garage-jansen").get("/api/v1/_openapi").get_json()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"jwt", "jwt_refresh"}
    assert "gk_" in schemes["jwt"]["description"]
    assert "refresh_token" in schemes["jwt_refresh"]["description"]
    assert "gk_" not in schemes["jwt_refresh"]["description"]


def test_issue16_use_the_document_names_no_spec_ids(world, api_client):
    """R-X-4: an integrator has no SPEC; summaries like "Create a passport (R-PP-1,
    R-PP-6)" read "Create a passport", and no text of the document names an R-id."""
    import json
    import re

    document = api_client("garage-jansen").get("/api/v1/_openapi").get_json()
    assert re.findall(r"\bR-[A-Z]+\b[^\"]{0,20}", json.dumps(document)) == []
    paths = document["paths"]
    assert paths["/api/v1/passport/"]["post"]["summary"] == "Create a passport"
    move = paths["/api/v1/passport/{pk}/move"]["post"]["summary"]
    assert move == "Move the passport to another garage (Admin, Support)"


def test_issue16_use_a_list_query_as_the_document_declares_it_works(world, api_client):
    """R-X-4: the document declares `q` as JSON content (FAB's), so Swagger's "Try it out"
    and a generated client send JSON; the console answered every such call 400 "the query
    (rison) cannot be read". JSON and rison now give the same page."""
    import json

    api = api_client("garage-jansen")
    document = api.get("/api/v1/_openapi").get_json()
    q = document["paths"]["/api/v1/passport/"]["get"]["parameters"][0]
    assert q["name"] == "q" and "application/json" in q["content"]
    assert '`{"page_size": 10}`' in document["info"]["description"]  # said, not only read
    as_json = api.get("/api/v1/passport/", query_string={"q": json.dumps({"page_size": 3})})
    assert as_json.status_code == 200, as_json.get_json()
    as_rison = api.get("/api/v1/passport/?q=(page_size:3)").get_json()
    assert as_json.get_json()["ids"] == as_rison["ids"]
    bad = api.get("/api/v1/passport/", query_string={"q": '{"page_size": -1}'})
    assert bad.status_code == 400
    unreadable = api.get("/api/v1/passport/", query_string={"q": "{nonsense"})
    assert unreadable.status_code == 400 and "rison" in unreadable.get_json()["message"]


def test_issue16_use_one_records_id_is_documented_as_the_integer_it_is(world, api_client):
    """R-X-4: FAB documents GET …/{pk}'s `id` as a string; the API answers an integer
    (schemathesis, once a JSON `q` was read: GET /api/v1/invoice/{pk})."""
    api = api_client("garage-jansen")
    document = api.get("/api/v1/_openapi").get_json()
    for path, operations in document["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        record_id = schema.get("properties", {}).get("id")
        if record_id:
            assert record_id["type"] == "integer", path
    passport = api.get("/api/v1/passport/?q=(page_size:1)").get_json()["ids"][0]
    assert isinstance(api.get(f"/api/v1/passport/{passport}").get_json()["id"], int)


def test_issue16_use_try_it_out_with_the_documented_query_answers(world, api_client):
    """R-X-4: Swagger's "Try it out" sends the q parameter's example; the schema's own
    (`page_size: 0`, a filter on a column "string") was refused 400 on every list."""
    import json

    api = api_client("garage-jansen")
    document = api.get("/api/v1/_openapi").get_json()
    tried = 0
    for path, operations in document["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter.get("name") != "q" or "{" in path:
                continue
            example = parameter["content"]["application/json"]["example"]
            answer = api.get(path, query_string={"q": json.dumps(example)})
            assert answer.status_code in (200, 404), (path, answer.get_json())
            tried += answer.status_code == 200
    assert tried >= 8
