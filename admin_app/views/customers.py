from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l

from admin_app.models import Customer
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.services import data_exports, vehicle_values
from admin_app.services import passports as passport_rules
from admin_app.services.labels import CUSTOMER_LABELS
from admin_app.services.list_exports import CUSTOMER_EXPORT
from admin_app.views.base import READ_WRITE, ConsoleModelView, PageInterface, current_actor
from admin_app.views.exports import ExportableList
from admin_app.views.filters import FilterEmailEqual, FilterEmailStartsWith, FilterNameStartsWith


class CustomerView(ExportableList, ConsoleModelView):
    route_base = "/customers"
    class_permission_name = "Customer"
    include_route_methods = {"list", "show", "edit", "action", "action_post", "export"}
    datamodel = PageInterface(Customer)
    list_template = "console/list_export.html"
    export_list = CUSTOMER_EXPORT
    list_title = _l("Customers")
    show_title = _l("Customer")
    edit_title = _l("Edit customer")
    list_columns = ["full_name", "email", "city", "customer_number", "garage"]
    show_columns = [*CONTACT_FIELDS[:3], "email", *CONTACT_FIELDS[3:], "email_bounced_at", "garage"]
    # The e-mail is changed with its rules (R-PP-7) on the passport, not here; Support
    # (which corrects e-mail addresses only) has no permission for this screen's edit.
    edit_columns = list(CONTACT_FIELDS)
    method_permission_name = {**READ_WRITE, "edit": "edit"}
    label_columns = {**CUSTOMER_LABELS}
    search_columns = ["last_name", "email", "customer_number", "city"]
    search_filters = {
        "last_name": [FilterNameStartsWith, FilterEqual],
        "email": [FilterEmailEqual, FilterEmailStartsWith],
        "customer_number": [FilterEqual],
        "city": [FilterEqual],
    }
    base_order = ("last_name", "asc")
    show_template = "console/customer_show.html"

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        # The cars he owns or drives, each linked to its profile (issue 15).
        widgets["cars"] = passport_rules.cars_of_customer(self.datamodel.session, item.id)
        # Brand and model as they count (issue 18): one register query for his cars.
        widgets["car_values"] = vehicle_values.values_of(
            self.datamodel.session, [car for car, _role in widgets["cars"]]
        )
        # Issue 19: Support may export the person at every garage, a garage its customer.
        widgets["export_whole_person"] = data_exports.may_export_person(current_actor())
        return widgets
