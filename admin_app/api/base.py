"""What every console REST API shares (R-X-4)."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder.api import BaseApi, ModelRestApi
from flask_appbuilder.const import API_FILTERS_RIS_KEY
from flask_appbuilder.exceptions import InvalidColumnFilterFABException
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext
from marshmallow import Schema, ValidationError
from sqlalchemy import or_
from werkzeug.exceptions import BadRequest as BadRequestError

from admin_app.api import openapi
from admin_app.api.schemas import MAX_ID, NoBody, flat_errors
from admin_app.domain.errors import BadRequest, InvalidInput
from admin_app.web.actor import current_actor
from admin_app.web.permissions import FULL_PERMISSIONS, READ_WRITE

# FAB's relation operations look the value up as an id.
RELATION_OPERATIONS = {"rel_o_m", "rel_m_m", "nrel_o_m"}


class _RelationByKey(BaseFilter):
    """A many-to-one relation compared by its foreign key. FAB's loads the related row
    first, through the caller's scope: another garage's fleet account (or one that does
    not exist) was None, and `fleet_account == None` listed every passport without a
    fleet — 62 unrelated ones (issue 16)."""

    def _key(self):
        (key,) = getattr(self.model, self.column_name).property.local_columns
        return key


class FilterRelationKeyEqual(_RelationByKey):
    name = lazy_gettext("Relation")
    arg_name = "rel_o_m"

    def apply(self, query, value):
        return query.filter(self._key() == value)


class FilterRelationKeyNotEqual(_RelationByKey):
    name = lazy_gettext("No Relation")
    arg_name = "nrel_o_m"

    def apply(self, query, value):
        key = self._key()
        return query.filter(or_(key != value, key.is_(None)))


RELATION_BY_KEY = {f.arg_name: f for f in (FilterRelationKeyEqual, FilterRelationKeyNotEqual)}


class JsonBody:
    """How every API endpoint reads its body (ConsoleApi's, and plain BaseApi's such as
    the data export's, issue 19)."""

    # The schema of each endpoint that reads a body, by method name (api/schemas.py);
    # an endpoint without one reads nothing from it.
    input_schemas: dict[str, type[Schema]] = {}

    def json_body(self) -> dict:
        """The request's JSON object as the endpoint's input schema loads it: {} for an
        empty body (actions need none); 400 for what is not a JSON object, 422 naming
        each field that is the wrong type or too long (issue 13)."""
        from flask import request
        from flask_babel import lazy_gettext as _l

        if not request.get_data():
            return {}
        try:
            body = request.get_json(force=True)
        except BadRequestError:
            raise BadRequest(_l("The body is not valid JSON.")) from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise BadRequest(_l("The body must be a JSON object."))
        method = request.url_rule.endpoint.rsplit(".", 1)[-1]
        try:
            return self.input_schemas.get(method, NoBody)().load(body)
        except ValidationError as error:
            raise InvalidInput(
                _l("Some fields are not correct."), errors=flat_errors(error.messages)
            ) from None


class ConsolePlainApi(JsonBody, BaseApi):
    """An API over no one model (issue 19's data export): the contract's body reading,
    Idempotency-Key on every POST and complete OpenAPI operations, as ConsoleApi's."""

    allow_browser_login = False

    def create_blueprint(self, appbuilder, *args, **kwargs):
        from admin_app.api import idempotency

        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        idempotency.attach(blueprint)
        return blueprint

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for schema in set(self.input_schemas.values()):
            openapi.register_component(api_spec, schema.__name__, schema)

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs):
        super().operation_helper(path, operations, methods, func, **kwargs)
        body = self.input_schemas.get(func.__name__)
        for method in methods:
            openapi.complete_operation(
                operations[method.lower()],
                path=path,
                method=method,
                protected=True,
                body_schema=body.__name__ if body else None,
                body_example=getattr(body, "example", None),
                idempotent_post=True,
            )


class ConsoleApi(JsonBody, ModelRestApi):
    """A ModelRestApi over scoped rows, with explicit flat columns.

    Columns are always listed: FAB's defaults would nest `created_by` with its password
    hash (DESIGN leak 5). JWT only: no cookie login, so no CSRF surface.
    """

    method_permission_name = READ_WRITE
    allow_browser_login = False
    max_page_size = 100
    page_size = 20
    base_order = ("id", "desc")
    # Read endpoints; each area opens its writes together with their rules.
    include_route_methods = {"get", "get_list", "info"}
    order_columns = ["id"]

    # Filters of the contract that FAB cannot derive or would derive differently, by
    # column and operation name (e.g. a passport's `email` is its owner's).
    contract_filters: dict[str, list] = {}

    def __init__(self):
        self.base_permissions = list(FULL_PERMISSIONS)  # see ConsoleModelView
        self.show_columns = self.show_columns or self.list_columns
        self.order_columns = sorted(set(self.order_columns) | {"id"})
        super().__init__()

    def create_blueprint(self, appbuilder, *args, **kwargs):
        from admin_app.api import idempotency

        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        # Every POST of every API takes Idempotency-Key the same way (issue 16).
        idempotency.attach(blueprint)
        return blueprint

    def _handle_filters_args(self, rison_args):
        # FAB reuses one Filters object for every request (not thread-safe) and maps an
        # operation name like "eq" to its default class before looking at ours: build a
        # fresh one per request and let the contract's filters win.
        filters = self.datamodel.get_filters(
            search_columns=self.search_columns, search_filters=self.search_filters
        )
        offered = filters.get_search_filters()
        for item in rison_args.get(API_FILTERS_RIS_KEY, []):
            column, operation = self._filter_named(item, offered)
            value = self._filter_value(column, operation, item["value"])
            custom = [c for c in self.contract_filters.get(column, []) if c.arg_name == operation]
            if custom:
                filters.add_filter(column, custom[0], value)
            elif operation in RELATION_BY_KEY:
                filters.add_filter(column, RELATION_BY_KEY[operation], value)
            else:
                filters.rest_add_filters([{"col": column, "opr": operation, "value": value}])
        return filters.get_joined_filters(self._base_filters)

    def _filter_named(self, item, offered) -> tuple[str, str]:
        """The column and operation of one filter, if this list offers them; otherwise
        InvalidColumnFilterFABException (a 400). FAB skipped a filter without "value"
        (and every one after it) and one whose operation the column has no class for:
        the list answered unfiltered, as if it had matched (issue 16)."""
        if not isinstance(item, dict) or not {"col", "opr", "value"} <= set(item):
            raise InvalidColumnFilterFABException("Filter: needs col, opr and value")
        column, operation = item["col"], item["opr"]
        names = {
            f.arg_name for f in [*offered.get(column, []), *self.contract_filters.get(column, [])]
        }
        if not isinstance(column, str) or not isinstance(operation, str) or operation not in names:
            raise InvalidColumnFilterFABException(f"Filter: {operation} not offered on {column}")
        return column, operation

    def _filter_value(self, column, operation, value):
        """The value as the column's type, or InvalidColumnFilterFABException (a 400).

        FAB hands a filter's value to the database as sent: a number or a list against
        a text column, text against a boolean, date or id, 30 digits against an integer,
        each was a 500 (issue 13)."""
        if value is None or not isinstance(column, str):
            return value
        if isinstance(value, (list, dict)):
            raise _not_a_value_for(column)
        model = self.datamodel
        typed = column in model.list_columns
        if operation in RELATION_OPERATIONS or (typed and model.is_integer(column)):
            return _id_value(column, value)
        if not typed or model.is_string(column) or model.is_text(column):
            return _text_value(value)
        if model.is_boolean(column):
            return _boolean_value(column, value)
        if model.is_date(column) or model.is_datetime(column):
            return _date_value(column, value)
        return _text_value(value)

    # --- the OpenAPI document (api/openapi.py holds what every operation shares) ---------

    # An example of one result, shown with the record and list answers.
    openapi_example: dict | None = None

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for schema in set(self.input_schemas.values()):
            openapi.register_component(api_spec, schema.__name__, schema)
        if self.openapi_example:
            record = api_spec.components.schemas[self.show_model_schema_name]
            record["example"] = self.openapi_example
            api_spec.components.schemas[self.list_model_schema_name]["example"] = {
                k: v for k, v in self.openapi_example.items() if k in self.list_columns
            }

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs):
        super().operation_helper(path, operations, methods, func, **kwargs)
        body = self.input_schemas.get(func.__name__)
        for method in methods:
            operation = operations[method.lower()]
            openapi.complete_operation(
                operation,
                path=path,
                method=method,
                protected=True,
                body_schema=body.__name__ if body else None,
                body_example=getattr(body, "example", None),
                record_schema=self.show_model_schema_name,
                idempotent_post=True,
            )
            if func.__name__ == "get_list":
                # FAB documents ids as text; they are the integer ids.
                listing = operation["responses"]["200"]["content"]["application/json"]
                listing["schema"]["properties"]["ids"]["items"] = {"type": "integer"}

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        # FAB translates a missing description as gettext(""): the catalog's header
        # ("Project-Id-Version: …") was each column's description in _info (issue 16).
        if not self.description_columns.get(field.name):
            info["description"] = ""
        return info

    # --- helpers for the write endpoints each area adds ----------------------------------

    def one(self, item, status: int = 200):
        """One record as the contract wants it: {"id", "result"} with a flat result."""
        return self.response(status, id=item.id, result=self.show_model_schema.dump(item))

    @staticmethod
    def actor():
        # A garage's API key acts under its own name (issue 16, api/keys).
        return current_actor()


# --- a list filter's value as its column's type (ConsoleApi._filter_value) --------------


def _not_a_value_for(column: str) -> InvalidColumnFilterFABException:
    return InvalidColumnFilterFABException(f"Filter: not a value for {column}")


def _id_value(column: str, value) -> int:
    """An id or an integer column: decimal digits up to MAX_ID (a bool is no number)."""
    text = str(value)
    if isinstance(value, bool) or not text.isdecimal() or int(text) > MAX_ID:
        raise _not_a_value_for(column)
    return int(text)


def _text_value(value) -> str:
    return value if isinstance(value, str) else str(value)


def _boolean_value(column: str, value) -> bool:
    """true/false, or the text "true", "1", "false", "0" a query string carries."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "false", "0"):
        return str(value).lower() in ("true", "1")
    raise _not_a_value_for(column)


def _date_value(column: str, value) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _not_a_value_for(column) from None
