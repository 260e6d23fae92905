"""The one place of what every operation of the OpenAPI document shares (R-X-4, issue 16).

FAB builds /api/v1/_openapi from each endpoint's docstring YAML. An endpoint documents
what is its own (summary, its answer, a special request body); `complete_operation` adds
what all of them have in common: the `{pk}` parameter, the request body from the
endpoint's input schema (api/schemas.py), the `Idempotency-Key` header on every POST
that creates or acts, the bearer security, and every refusal it can give in the
contract's `{"message", "errors"}` shape (api/errors.py). Written once here, an endpoint
cannot forget one (issue 16: 28 operations had no responses, 21 no `{pk}`).
"""

from __future__ import annotations

import re

from apispec import APISpec, BasePlugin
from apispec.exceptions import DuplicateComponentNameError
from flask_appbuilder.api.manager import OpenApi
from marshmallow import Schema, fields

ERROR_REF = "#/components/schemas/Error"


class ErrorSchema(Schema):
    """Every refusal of the API (api/errors.py: error_body)."""

    __component_name__ = "Error"

    message = fields.String(
        required=True, metadata={"description": "in Dutch, or English with `?_l_=en`"}
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "per field, what is wrong with it; {} when no field is"},
    )


# Status → when the API gives it, with an example body (English: ?_l_=en; Dutch without).
REFUSALS = {
    "400": (
        "The request cannot be read: malformed JSON, a body that is no JSON object, or a "
        "`q` that is not rison (or filters a column or value the list does not offer).",
        {"message": "The request is not correct.", "errors": {}},
    ),
    "401": (
        "No valid `Authorization: Bearer` (a JWT from /api/v1/security/login, or an API "
        "key `gk_…`), or it has expired.",
        {"message": "Log in first.", "errors": {}},
    ),
    "403": (
        "The caller sees the record but his role may not do this to it.",
        {"message": "You may not do this.", "errors": {}},
    ),
    "404": (
        "No such record, or outside the caller's scope (another garage's ids answer 404), "
        "or an operation the caller's role does not have.",
        {"message": "Not found.", "errors": {}},
    ),
    "405": (
        "A method the resource does not offer.",
        {"message": "This method is not offered here.", "errors": {}},
    ),
    "409": (
        "A conflict with the current state: the plate is live elsewhere, the record is in "
        "the wrong state, the week is closed; or a request with the same Idempotency-Key "
        "is still running.",
        {"message": "This conflicts with the current state.", "errors": {}},
    ),
    "413": (
        "The body (or the uploaded file) is too large.",
        {"message": "The file is too large.", "errors": {}},
    ),
    "422": (
        "A field is not correct (errors names each one), or the Idempotency-Key was used "
        "before with another body.",
        {
            "message": "Some fields are not correct.",
            "errors": {"email": ["This is not a valid e-mail address."]},
        },
    ),
    "429": (
        "Too many requests: the logins are limited per client, an API key to 600 a minute; "
        "`Retry-After` says how many seconds to wait.",
        {"message": "Too many attempts; wait a moment and try again.", "errors": {}},
    ),
    "500": (
        "Something went wrong on our side (never for bad input).",
        {"message": "Something went wrong on our side.", "errors": {}},
    ),
}

RESPONSES = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}, "example": example}},
    }
    for status, (description, example) in REFUSALS.items()
}
RESPONSES["429"]["headers"] = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}

PARAMETERS = {
    "pk": {
        "in": "path",
        "name": "pk",
        "required": True,
        "description": "the record's id",
        "schema": {"type": "integer", "minimum": 1},
        "example": 1,
    },
    "idempotency_key": {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": (
            "Any unique text (e.g. a UUID) per intended change. Kept 24 hours per caller: "
            "the same key with the same body returns the stored answer; with another body "
            "it is 422; while the first request still runs it is 409."
        ),
        "schema": {"type": "string", "maxLength": 255},
        "example": "3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f4a7c31",
    },
}

BEARER_DESCRIPTION = (
    "`Authorization: Bearer <token>`: either a JWT (`access_token` from "
    "POST /api/v1/security/login) or a garage's API key (`gk_…`, made on the garage's "
    "settings page). The `gk_` prefix tells them apart."
)
REFRESH_DESCRIPTION = (
    "`Authorization: Bearer <refresh_token>` from POST /api/v1/security/login with "
    '`"refresh": true`; only for POST /api/v1/security/refresh. An API key needs no refresh.'
)

# Refusals by kind of operation; every protected operation can also be refused as a
# whole: 401 without a login, 404 for a role without it, 429 beyond the rate limit, 400
# for an unreadable `q` (read on every API request).
ALWAYS = ("400", "401", "404", "429")
CHANGES = ("403", "409", "413", "422")
SUCCESS = ("200", "201", "202", "204")


def record_response(schema_name: str, description: str = "The record") -> dict:
    """One record as the contract gives it: {"id", "result"} with a flat result."""
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["id", "result"],
                    "properties": {
                        "id": {"type": "integer"},
                        "result": {"$ref": f"#/components/schemas/{schema_name}"},
                    },
                }
            }
        },
    }


def list_response(item: dict, description: str = "The records") -> dict:
    """A list as the contract gives it: {"count", "ids", "result"}."""
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["count", "ids", "result"],
                    "properties": {
                        "count": {"type": "integer"},
                        "ids": {"type": "array", "items": {"type": "integer"}},
                        "result": {"type": "array", "items": item},
                    },
                }
            }
        },
    }


def _ref(name: str) -> str:
    return name  # apispec turns a parameter's component name into its $ref


def _names(parameters) -> set[str]:
    names = set()
    for parameter in parameters:
        if isinstance(parameter, str):
            names.add(parameter)
        elif "$ref" in parameter:
            names.add(parameter["$ref"].rsplit("/", 1)[-1])
        else:
            names.add(parameter.get("name"))
    return names


LIST_QUERY_EXAMPLE = {"page": 0, "page_size": 10}

_SPEC_ID = re.compile(r"(?:;\s*|,\s*)?\bR-[A-Z]+(?:-\d+)?(?: for the e-mail)?")


def without_spec_ids(text: str) -> str:
    """Docstrings name SPEC's requirement ids for the console's developers; an integrator
    has no SPEC: "Create a passport (R-PP-1, R-PP-6)" reads "Create a passport"."""
    text = re.sub(r"\(\s*[,;]?\s*", "(", _SPEC_ID.sub("", text))
    return re.sub(r"\s*\(\s*\)", "", text)


def complete_operation(
    operation: dict,
    *,
    path: str,
    method: str,
    protected: bool,
    body_schema: str | None = None,
    body_example: dict | None = None,
    record_schema: str | None = None,
    idempotent_post: bool = False,
) -> dict:
    """Add to one operation (in place) what it shares with every other; what its
    docstring says first is kept."""
    method = method.lower()
    for key in ("summary", "description"):
        if operation.get(key):
            operation[key] = without_spec_ids(operation[key])
    _complete_parameters(operation, path=path, method=method, idempotent_post=idempotent_post)
    if body_schema and "requestBody" not in operation:
        operation["requestBody"] = _request_body(body_schema, body_example)
    responses = _complete_responses(
        operation, method=method, protected=protected, record_schema=record_schema
    )
    if protected:
        # One bearer scheme for a JWT or an API key (the `gk_` prefix tells them apart);
        # FAB's own `api_key` alternative (its `sst_` keys) is not offered here.
        schemes = [s for s in operation.get("security", []) if "api_key" not in s]
        operation["security"] = schemes or [{"jwt": []}]
    if path.endswith("/_info") and method == "get":
        _document_info(responses["200"])
    _integer_id(responses.get("200"))
    return operation


def _complete_parameters(operation: dict, *, path: str, method: str, idempotent_post: bool):
    """The `{pk}` of an item's path, the `Idempotency-Key` of a POST that creates or acts,
    and an example for a list's `q`; no empty parameter list is left."""
    parameters = operation.setdefault("parameters", [])
    names = _names(parameters)
    if "{pk}" in path and not names & {"pk"}:
        parameters.append(_ref("pk"))
    if idempotent_post and method == "post" and not names & {"idempotency_key", "Idempotency-Key"}:
        parameters.append(_ref("idempotency_key"))
    for parameter in parameters:
        _example_query(parameter, path)
    if not parameters:
        del operation["parameters"]


def _example_query(parameter: dict | str, path: str) -> None:
    """Swagger's "Try it out" and generated examples start from this: without it, the
    schema's own (`page_size: 0`, `filters` on a column "string") is refused."""
    if not isinstance(parameter, dict) or parameter.get("name") != "q":
        return
    query = parameter.get("content", {}).get("application/json")
    if query is not None and "example" not in query:
        query["example"] = LIST_QUERY_EXAMPLE if path.endswith("/") else {}


def _request_body(body_schema: str, body_example: dict | None) -> dict:
    """The body read by the endpoint's input schema (api/schemas.py)."""
    content: dict = {"schema": {"$ref": f"#/components/schemas/{body_schema}"}}
    if body_example is not None:
        content["example"] = body_example
    return {
        "required": False,  # actions accept an empty body; a PUT changes what it names
        "content": {"application/json": content},
    }


def _complete_responses(
    operation: dict, *, method: str, protected: bool, record_schema: str | None
) -> dict:
    """The success answer when the docstring gives none, and every refusal the operation
    can give, each with the contract's body."""
    responses = operation.setdefault("responses", {})
    # Docstrings write statuses as YAML integers.
    for status in list(responses):
        if not isinstance(status, str):
            responses[str(status)] = responses.pop(status)
    if not any(status in responses for status in SUCCESS) and record_schema:
        responses["200"] = record_response(record_schema)
    wanted = list(ALWAYS) if protected else ["400", "429"]
    if method in ("post", "put", "delete"):
        wanted += CHANGES
    for status in wanted:
        responses.setdefault(status, {"$ref": f"#/components/responses/{status}"})
    for status, response in responses.items():
        if response.get("description"):
            response["description"] = without_spec_ids(response["description"])
        # A refusal described in a docstring gets the shared body.
        if status in RESPONSES and "$ref" not in response and "content" not in response:
            response["content"] = RESPONSES[status]["content"]
    return responses


def _integer_id(response: dict | None) -> None:
    """FAB documents one record's `id` as a string; it answers the integer key (found by
    schemathesis once a JSON `q` was read, issue 16)."""
    schema = ((response or {}).get("content") or {}).get("application/json", {}).get("schema")
    record_id = (schema or {}).get("properties", {}).get("id")
    if record_id and record_id.get("type") == "string":
        record_id["type"] = "integer"


FIELD_INFO = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": "string", "description": "the marshmallow field's class"},
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "validate": {"type": "array", "items": {"type": "string"}},
            "count": {"type": "integer"},
            "values": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def _document_info(response: dict) -> None:
    """FAB documents a resource's add_columns and edit_columns as objects; it answers
    a list of fields (schemathesis, issue 16)."""
    properties = response["content"]["application/json"]["schema"]["properties"]
    properties["add_columns"] = FIELD_INFO
    properties["edit_columns"] = FIELD_INFO


_VERBS = {"get": "list", "post": "create", "put": "update", "patch": "update", "delete": "delete"}


def operation_name(path: str, method: str) -> str:
    """A readable operationId from the path: `passport_list`, `passport_get`,
    `passport_transfer`, `passport_delete_fleet`. FAB gives none, and a client generator
    then names each call after its URL (`apiV1PassportPkTransferPost`)."""
    segments = [s for s in path.split("/") if s][2:]  # past "api", "v1"
    resource, rest = segments[0], segments[1:]
    item = bool(rest) and rest[-1].startswith("{")
    words = [re.sub(r"\W+", "_", s).strip("_") for s in rest if not s.startswith("{")]
    verb = "get" if method == "get" and item else _VERBS.get(method, method)
    if not words:
        return f"{resource}_{verb}"
    # An action (`…/{pk}/send`, `…/{pk}/rows`) is named by itself; a sub-collection, one
    # of its items, or a change of a part (`PUT …/{pk}/fleet`) by verb and name.
    if item or path.endswith("/") or method not in ("get", "post"):
        return f"{resource}_{verb}_{'_'.join(words)}"
    return f"{resource}_{'_'.join(words)}"


class CompleteOperations(BasePlugin):
    """Completes every operation as its view adds it: FAB's own APIs (security, menu)
    too, whose operations lacked the 404 a role without them gets (schemathesis)."""

    def __init__(self):
        self.operation_ids: set[str] = set()

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            complete_operation(
                operation, path=path, method=method, protected="security" in operation
            )
            if method in _VERBS and "operationId" not in operation:
                name = operation_name(path, method)
                # FAB has both ".../permissions" and ".../permissions/" (POST, GET).
                if name in self.operation_ids:
                    name = f"{name}_{method}"
                self.operation_ids.add(name)
                operation["operationId"] = name


def register_shared_components(api_spec: APISpec) -> None:
    """Before any view adds its own: FAB's views register their responses under the same
    names ("400", "404", …) with a body of only `message`; the first one wins."""
    for status, response in RESPONSES.items():
        api_spec.components.response(status, response)
    for name, parameter in PARAMETERS.items():
        location = parameter["in"]
        api_spec.components.parameter(
            name, location, {k: v for k, v in parameter.items() if k != "in"}
        )
    api_spec.components.schema(ErrorSchema.__component_name__, schema=ErrorSchema)


def register_component(api_spec: APISpec, name: str, schema) -> None:
    try:
        api_spec.components.schema(name, schema=schema)
    except DuplicateComponentNameError:
        pass  # shared by several endpoints or resources


class ConsoleOpenApi(OpenApi):
    """FAB's /api/<version>/_openapi with the shared components registered first."""

    class_permission_name = "OpenApi"  # FAB's: the roles' grants keep their name

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        return super().create_blueprint(appbuilder, endpoint or "OpenApi", static_folder)

    @staticmethod
    def _create_api_spec(version):
        api_spec = OpenApi._create_api_spec(version)
        api_spec.options["info"]["description"] = (
            "The garage console's REST API. Lists take `q` in rison, `(page_size:10)`, or as "
            '`{"page_size": 10}` (`page`, `page_size` up to 100, `filters`, `order_column`, '
            '`order_direction`) and answer `{"count", "ids", '
            '"result"}`; one record is `{"id", "result"}`; every refusal is `{"message", '
            '"errors"}` in Dutch, English with `?_l_=en`. ' + BEARER_DESCRIPTION
        )
        register_shared_components(api_spec)
        plugin = CompleteOperations()
        plugin.init_spec(api_spec)
        api_spec.plugins.append(plugin)
        return api_spec
