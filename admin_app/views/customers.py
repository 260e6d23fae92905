from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l

from admin_app.domain.clock import local_today
from admin_app.domain.errors import InvalidInput
from admin_app.extensions import db
from admin_app.models import Customer
from admin_app.models.base import utcnow
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.roles import SUPPORT
from admin_app.services import data_exports, erasure, vehicle_values
from admin_app.services import passports as passport_rules
from admin_app.services.labels import CUSTOMER_LABELS
from admin_app.services.list_exports import CUSTOMER_EXPORT
from admin_app.views.base import ConsoleModelView, PageInterface
from admin_app.views.exports import ExportableList
from admin_app.views.forms import ErasureForm, attempt, show_errors
from admin_app.web.actor import current_actor
from admin_app.web.filters import FilterEmailEqual, FilterEmailStartsWith, FilterNameStartsWith
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE


class CustomerView(ExportableList, ConsoleModelView):
    route_base = "/customers"
    class_permission_name = "Customer"
    include_route_methods = {"list", "show", "edit", "action", "action_post", "export", "erase"}
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
        widgets["my_export"] = data_exports.open_export(
            self.datamodel.session, user_id=current_actor().id, customer_id=item.id, now=utcnow()
        )
        # Support's erase (issue 19, R-DR-2): offered to Support only, never twice. An
        # erased customer has nothing left to export: the page says he was erased instead.
        widgets["erased"] = erasure.is_erased(item)
        widgets["can_erase"] = current_actor().has(SUPPORT) and not widgets["erased"]
        return widgets

    @expose("/<int:pk>/erase", methods=["GET", "POST"])
    @has_access
    def erase(self, pk):
        """Support's erase (issue 19, R-DR-2): the form, then a confirm step that says what
        will happen and what stays; a refusal or a bad field shows the form again as typed."""
        customer = scoped_or_404(Customer, pk)
        show_url = url_for(f"{self.endpoint}.show", pk=pk)
        if not current_actor().has(SUPPORT):
            # Admin holds every permission; the erase is Support's alone (SPEC roles).
            flash(str(erasure.SUPPORT_ONLY), "warning")
            return redirect(show_url)
        form = ErasureForm()
        # Support is at no garage: "this garage" would name none before the confirm step.
        form.which.choices = [
            ("customer", _l("Only this customer, at %(garage)s", garage=customer.garage.name)),
            form.which.choices[1],
        ]
        if request.method == "GET":
            form.requested_on.data = local_today().isoformat()
        if form.validate_on_submit() and "back" not in request.form:
            which = form.which.data
            if form.confirmed.data == "yes":
                answer = attempt(
                    lambda: erasure.erase_as_asked(
                        db.session,
                        current_actor(),
                        customer,
                        which=which,
                        reason=form.reason.data,
                        requested_on=form.requested_on.data,
                        today=local_today(),
                    ),
                    done=_l('Erased. The customer\'s data now reads "verwijderd".'),
                    next_url=show_url,
                    form=form,
                )
                if answer:
                    return answer
            else:
                try:
                    erasure.parse_request(
                        form.reason.data, form.requested_on.data, today=local_today()
                    )
                except InvalidInput as error:
                    show_errors(form, error)
                else:
                    plan = erasure.preview(db.session, customer, which)
                    if plan.refused is None:
                        return self.render_template(
                            "console/erase_confirm.html",
                            form=form,
                            plan=plan,
                            customer=customer,
                            show_url=show_url,
                        )
                    flash(str(plan.refused), "danger")
        form.confirmed.data = ""
        return self.render_template(
            "console/form.html",
            form=form,
            fields=("which", "requested_on", "reason"),
            title=_l("Erase %(name)s (AVG)", name=customer.full_name),
            submit_label=_l("Next: what will happen"),
        )
