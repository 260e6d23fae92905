from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from admin_app.models import FleetAccount
from admin_app.views.base import ConsoleModelView


class FleetAccountView(ConsoleModelView):
    route_base = "/fleet-accounts"
    class_permission_name = "FleetAccount"
    include_route_methods = {"list", "show", "action", "action_post"}
    datamodel = SQLAInterface(FleetAccount)
    list_title = _l("Fleet accounts")
    show_title = _l("Fleet account")
    list_columns = ["name", "email", "linked_count", "garage"]
    show_columns = ["name", "email", "manager_passport", "linked_count", "garage", "created_at"]
    label_columns = {
        "name": _l("Company name"),
        "email": _l("Login e-mail"),
        "manager_passport": _l("Fleet manager's passport"),
        "linked_count": _l("Linked cars"),
        "garage": _l("Garage"),
        "created_at": _l("Created"),
    }
    search_columns = ["name", "email"]
    base_order = ("name", "asc")
