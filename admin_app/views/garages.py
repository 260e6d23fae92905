from __future__ import annotations

from flask import Response, abort, g, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from admin_app.models import Garage
from admin_app.services.garages import store_logo
from admin_app.services.labels import GARAGE_LABELS
from admin_app.views.base import READ_WRITE, ConsoleModelView
from admin_app.views.forms import submitted


class GarageView(ConsoleModelView):
    """Admin: every garage."""

    route_base = "/garages"
    class_permission_name = "Garage"
    datamodel = SQLAInterface(Garage)
    # No delete: a garage's passports, customers and history outlive a mistake here.
    include_route_methods = {"list", "show", "add", "edit"}
    list_title = _l("Garages")
    show_title = _l("Garage")
    add_title = _l("New garage")
    edit_title = _l("Edit garage")
    list_columns = ["name", "email", "city", "phone"]
    show_columns = [
        "name",
        "email",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "advice_followup_default",
        "created_at",
    ]
    add_columns = edit_columns = [
        "name",
        "email",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "advice_followup_default",
    ]
    label_columns = {**GARAGE_LABELS}
    search_columns = ["name", "email", "city"]
    base_order = ("name", "asc")


class MyGarageView(ConsoleModelView):
    """The garage's own settings, edited by its staff; the scope leaves only its row."""

    route_base = "/my-garage"
    class_permission_name = "MyGarage"
    include_route_methods = {"show", "edit", "mine", "logo", "logo_image"}
    method_permission_name = {**READ_WRITE, "mine": "write", "logo": "write", "logo_image": "read"}
    datamodel = SQLAInterface(Garage)
    show_title = _l("My garage")
    edit_title = _l("Garage settings")
    show_columns = GarageView.show_columns
    edit_columns = [
        "name",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "advice_followup_default",
    ]
    label_columns = {**GARAGE_LABELS}
    list_columns = ["name", "city"]

    @expose("/mine")
    @has_access
    def mine(self):
        return redirect(url_for(f"{self.endpoint}.edit", pk=_own_garage_id()))

    @expose("/logo", methods=["GET", "POST"])
    @has_access
    def logo(self):
        form = LogoForm()
        garage = self.datamodel.get(_own_garage_id())
        if garage is None:
            abort(404)
        answer = submitted(
            form,
            lambda: store_logo(garage, form.logo.data),
            done=_l("The logo is saved."),
            next_url=url_for(f"{self.endpoint}.mine"),
        )
        return answer or self.render_template(
            "console/garage_logo.html", form=form, garage=garage, title=_l("Logo for printed forms")
        )

    @expose("/logo.img")
    @has_access
    def logo_image(self):
        garage = self.datamodel.get(_own_garage_id())
        if garage is None or not garage.logo:
            abort(404)
        return Response(garage.logo, mimetype=garage.logo_mimetype)


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG or JPEG, at most 512 KB)"), validators=[FileRequired()])


def _own_garage_id() -> int:
    garage_id = getattr(g.get("scope"), "garage_id", None)
    if not garage_id:
        abort(404)
    return garage_id
