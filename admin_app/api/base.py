"""What every console REST API shares (R-X-4)."""

from __future__ import annotations

from flask_appbuilder.api import ModelRestApi

from admin_app.views.base import FULL_PERMISSIONS, READ_WRITE


class ConsoleApi(ModelRestApi):
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

    def __init__(self):
        self.base_permissions = list(FULL_PERMISSIONS)  # see ConsoleModelView
        self.show_columns = self.show_columns or self.list_columns
        self.order_columns = sorted(set(self.order_columns) | {"id"})
        super().__init__()
