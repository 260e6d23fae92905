"""The owner's "my vehicles" (R-TR-1, R-FL-5, issue 15): his cars, his sale of one, and
the inspection forms made while a car was his.
"""

from __future__ import annotations

from flask import url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l

from admin_app.extensions import db
from admin_app.models import Passport
from admin_app.models.base import utcnow
from admin_app.services import data_exports, inspections, recalls
from admin_app.services import passports as passport_rules
from admin_app.views.base import ConsoleModelView, PageInterface
from admin_app.views.calendar_feeds import calendar_panel
from admin_app.views.inspections import read_only_form, result_summary
from admin_app.views.passport_forms import cancel_transfer_of, transfer_page
from admin_app.views.passports import VEHICLE_COLUMNS, PassportView
from admin_app.views.register_values import list_register_values, show_register_values
from admin_app.views.widgets import StackedListWidget
from admin_app.web.actor import current_actor
from admin_app.web.permissions import READ_WRITE


class MyVehiclesView(ConsoleModelView):
    """The owner's "my vehicles": the scope leaves only the cars he owns or drives."""

    route_base = "/my-vehicles"
    class_permission_name = "MyVehicles"
    include_route_methods = {
        "list",
        "show",
        "action",
        "action_post",
        "transfer",
        "cancel_transfer",
        "inspection",
    }
    method_permission_name = {**READ_WRITE, "inspection": "read"}
    show_template = "console/vehicle_show.html"
    list_widget = StackedListWidget  # read on a phone: each car a card
    list_template = "console/my_vehicles_list.html"
    datamodel = PageInterface(Passport)
    list_title = _l("My vehicles")
    show_title = _l("Vehicle")
    list_columns = ["plate_label", "brand", "model", "apk_expiry", "next_service", "garage"]
    show_columns = [
        *VEHICLE_COLUMNS,
        "owner_name",
        "garage",
    ]
    label_columns = PassportView.label_columns
    search_columns = ["plate"]
    base_order = ("id", "desc")

    @expose("/<int:pk>/transfer", methods=["GET", "POST"])
    @has_access
    def transfer(self, pk):
        """The owner sells his car (R-TR-1)."""
        return transfer_page(self, pk)

    @expose("/<int:pk>/cancel-transfer", methods=["POST"])
    @has_access
    def cancel_transfer(self, pk):
        """The owner takes back a sale he started that still waits for acceptance."""
        return cancel_transfer_of(self, pk)

    def _list(self, **kwargs):
        widgets = super()._list(**kwargs)
        widgets["calendar"] = calendar_panel()  # his calendar address (issue 18)
        widgets["open_recalls"] = recalls.open_recalls_of_cars(db.session)
        # His export of himself still open (issue 19): the way back to its page.
        widgets["my_export"] = data_exports.open_export(
            db.session, user_id=current_actor().id, owner_user_id=current_actor().id, now=utcnow()
        )
        return widgets

    def _get_list_widget(self, filters, **kwargs):
        widgets = super()._get_list_widget(filters, **kwargs)
        list_register_values(self.datamodel.session, widgets["list"].template_args)
        return widgets

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        show_register_values(self.datamodel.session, widgets["show"], item, marked=False)
        widgets["refusals"] = passport_rules.allowed_actions(db.session, current_actor(), item)
        widgets["pending_transfer"] = passport_rules.pending_transfer(db.session, item)
        widgets["forms"] = self._forms(pk)
        widgets["result_summary"] = result_summary
        widgets["open_recalls"] = recalls.open_recalls_of(db.session, item.plate)
        return widgets

    def _forms(self, pk):
        return inspections.owner_car_forms(db.session, pk, email=current_actor().email or "")

    @expose("/<int:pk>/inspections/<int:form_id>")
    @has_access
    def inspection(self, pk, form_id):
        """An inspection form made while the car was his, read-only (R-FL-5, issue 15)."""
        return read_only_form(
            self, self._forms(pk), form_id, back=url_for(f"{self.endpoint}.show", pk=pk)
        )
