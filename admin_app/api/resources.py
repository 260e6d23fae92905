"""Read endpoints for passports, customers, fleet accounts and the outbox."""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterContains,
    FilterEqual,
    FilterRelationOneToManyEqual,
    FilterStartsWith,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from admin_app.api.base import ConsoleApi
from admin_app.models import Customer, FleetAccount, OutboxMessage, Passport


class _Email(BaseFilter):
    """E-mail filters compare case-insensitively, as customers are identified."""

    def _matching(self, condition):
        return condition

    def _equal(self, value):
        return self._matching(func.lower(Customer.email) == str(value).strip().lower())

    def _contains(self, value):
        return self._matching(func.lower(Customer.email).like(f"%{str(value).strip().lower()}%"))


class _OwnerEmail(_Email):
    def _matching(self, condition):
        return Passport.owner_id.in_(select(Customer.id).where(condition).correlate(None))


class FilterOwnerEmailEqual(_OwnerEmail):
    name = lazy_gettext("Equal to")
    arg_name = "eq"

    def apply(self, query, value):
        return query.filter(self._equal(value))


class FilterOwnerEmailContains(_OwnerEmail):
    name = lazy_gettext("Contains")
    arg_name = "ct"

    def apply(self, query, value):
        return query.filter(self._contains(value))


class FilterEmailEqual(_Email):
    name = lazy_gettext("Equal to")
    arg_name = "eq"

    def apply(self, query, value):
        return query.filter(self._equal(value))


class PassportApi(ConsoleApi):
    resource_name = "passport"
    class_permission_name = "Passport"
    datamodel = SQLAInterface(Passport)
    list_columns = [
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
    ]
    order_columns = ["id", "plate", "state", "apk_expiry"]
    search_columns = ["plate", "state", "fleet_account", "garage"]
    search_filters = {
        "plate": [FilterEqual, FilterStartsWith, FilterContains],
        "state": [FilterEqual],
        "fleet_account": [FilterRelationOneToManyEqual],
        "garage": [FilterRelationOneToManyEqual],
    }

    # The owner's e-mail, case-insensitive as customers are found (R-PP-5).
    contract_filters = {"email": [FilterOwnerEmailEqual, FilterOwnerEmailContains]}


class CustomerApi(ConsoleApi):
    resource_name = "customer"
    class_permission_name = "Customer"
    datamodel = SQLAInterface(Customer)
    list_columns = [
        "id",
        "first_name",
        "infix",
        "last_name",
        "email",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "customer_number",
        "garage_id",
    ]
    order_columns = ["id", "last_name"]
    search_columns = ["email", "last_name"]
    search_filters = {"email": [FilterEqual], "last_name": [FilterEqual, FilterStartsWith]}
    contract_filters = {"email": [FilterEmailEqual]}


class FleetAccountApi(ConsoleApi):
    resource_name = "fleet_account"
    class_permission_name = "FleetAccount"
    datamodel = SQLAInterface(FleetAccount)
    list_columns = ["id", "name", "email", "manager_passport_id", "garage_id"]
    order_columns = ["id", "name"]
    search_columns = ["name", "email"]


class OutboxApi(ConsoleApi):
    """Sent and pending mail, never the body (it holds access links)."""

    resource_name = "outbox"
    class_permission_name = "Outbox"
    datamodel = SQLAInterface(OutboxMessage)
    list_columns = ["id", "recipient", "kind", "state", "attempts", "last_error", "created_at"]
    order_columns = ["id", "created_at"]
    search_columns = ["recipient", "state"]
