from __future__ import annotations

from flask import Response, abort, flash, g, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, ValidationError

from admin_app.domain.errors import DomainError
from admin_app.extensions import db
from admin_app.models import Garage
from admin_app.services.api_keys import list_api_keys
from admin_app.services.apk_reminders import MAX_WEEKS
from admin_app.services.garages import (
    change_garage_email,
    free_garage_email,
    store_logo,
    why_not_change_email,
)
from admin_app.services.labels import GARAGE_LABELS
from admin_app.views.base import ConsoleModelView
from admin_app.views.forms import fits, submitted
from admin_app.web.actor import current_actor
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE


def _advice_followup_field() -> BooleanField:
    # A yes/no: FAB makes a non-null column a required field, and a required checkbox
    # cannot be saved unticked (R-CP-3 default "no").
    return BooleanField(GARAGE_LABELS["advice_followup_default"], default=False)


APK_REMINDER_HELP = {
    "apk_reminders": _l(
        "Owners get one mail per APK expiry date, in the morning the chosen number of weeks "
        "before it, with your address and phone number; fleet managers get at most one "
        "mail a week listing their cars due in the next 8 weeks. Not mailed: customers who "
        "said never, addresses that bounced, and customers invited or invoiced in the last 8 "
        "weeks. Cars that expire within 5 weeks of the day you switch this on are not "
        "reminded."
    ),
    "apk_reminder_weeks": _l("Usually 6: time enough to make an appointment."),
}


def _apk_reminder_fields() -> dict:
    """The APK reminder setting (issue 18): on or off, and how many weeks ahead."""
    return {
        "apk_reminders": BooleanField(
            GARAGE_LABELS["apk_reminders"],
            default=True,
            description=APK_REMINDER_HELP["apk_reminders"],
        ),
        # A choice, not a typed number: nothing to mistype. A form posted without it
        # (a script) keeps the garage's current weeks.
        "apk_reminder_weeks": SelectField(
            GARAGE_LABELS["apk_reminder_weeks"],
            choices=[(1, _l("1 week"))]
            + [(n, _l("%(count)d weeks", count=n)) for n in range(2, MAX_WEEKS + 1)],
            coerce=int,
            default=6,
            description=APK_REMINDER_HELP["apk_reminder_weeks"],
            # A plain list: Select2's "×" would empty a choice that cannot be empty.
            render_kw={"class": "form-control"},
        ),
    }


SETTINGS_COLUMNS = ["apk_reminders", "apk_reminder_weeks"]


def _new_garage_email(form, field) -> None:
    """The e-mail of a new garage: valid, normalized, used by no garage or login yet."""
    try:
        field.data = free_garage_email(db.session, field.data)
    except DomainError as error:
        raise ValidationError(str(error.message)) from None


_new_garage_email.field_flags = {"required": True}  # FAB marks the label with its star


class GarageView(ConsoleModelView):
    """Admin: every garage."""

    route_base = "/garages"
    class_permission_name = "Garage"
    datamodel = SQLAInterface(Garage)
    # No delete: a garage's passports, customers and history outlive a mistake here.
    include_route_methods = {"list", "show", "add", "edit", "email"}
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
        *SETTINGS_COLUMNS,
        "apk_reminders_from",
        "created_at",
    ]
    add_columns = [
        "name",
        "email",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "advice_followup_default",
        *SETTINGS_COLUMNS,
    ]
    # The e-mail is changed with its rule (change_garage_email), on its own page.
    edit_columns = [column for column in add_columns if column != "email"]
    add_form_extra_fields = {
        "email": StringField(
            GARAGE_LABELS["email"],
            [fits(Garage, "email"), _new_garage_email],
            widget=BS3TextFieldWidget(),
        ),
        "advice_followup_default": _advice_followup_field(),
        **_apk_reminder_fields(),
    }
    edit_form_extra_fields = {
        "advice_followup_default": _advice_followup_field(),
        **_apk_reminder_fields(),
    }
    label_columns = {**GARAGE_LABELS}
    search_columns = ["name", "email", "city"]
    base_order = ("name", "asc")
    show_template = "console/garage_show.html"
    extra_args = {"email_endpoint": "GarageView.email"}

    @expose("/<int:pk>/email", methods=["GET", "POST"])
    @has_access
    def email(self, pk):
        return garage_email_page(self, pk, next_url=url_for(f"{self.endpoint}.show", pk=pk))


class MyGarageView(ConsoleModelView):
    """The garage's own settings, edited by its staff; the scope leaves only its row."""

    route_base = "/my-garage"
    class_permission_name = "MyGarage"
    include_route_methods = {"show", "edit", "mine", "logo", "logo_image", "email"}
    method_permission_name = {
        **READ_WRITE,
        "mine": "write",
        "logo": "write",
        "logo_image": "read",
        "email": "write",
    }
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
        *SETTINGS_COLUMNS,
    ]
    edit_form_extra_fields = {
        "advice_followup_default": _advice_followup_field(),
        **_apk_reminder_fields(),
    }
    label_columns = {**GARAGE_LABELS}
    list_columns = ["name", "city"]
    # Both show the garage e-mail (R-PP-3) with the way to change it.
    edit_template = "console/garage_settings.html"
    show_template = "console/garage_show.html"
    extra_args = {"email_endpoint": "MyGarageView.email"}

    @expose("/email", methods=["GET", "POST"])
    @has_access
    def email(self):
        return garage_email_page(self, _own_garage_id(), next_url=url_for(f"{self.endpoint}.mine"))

    def render_template(self, template, **kwargs):
        if template == self.edit_template:
            kwargs.setdefault("garage", self.datamodel.get(_own_garage_id()))
            # Its API keys (issue 16), managed on ApiKeyView's pages.
            kwargs.setdefault("keys", list_api_keys(db.session))
            kwargs.setdefault("every_garage", False)
        if template in (self.edit_template, self.show_template):
            # The change button, or the reason this login may not (R-PP-3).
            garage = self.datamodel.get(_own_garage_id())
            if garage is not None:
                kwargs.setdefault(
                    "email_refusal", why_not_change_email(db.session, garage, current_actor())
                )
        return super().render_template(template, **kwargs)

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


class GarageEmailForm(FlaskForm):
    email = StringField(_l("New garage e-mail"), [fits(Garage, "email")])


def garage_email_page(view, garage_id: int, *, next_url: str):
    """The garage e-mail's own page (R-PP-3): its rule, its consequences said up front."""
    garage = scoped_or_404(Garage, garage_id)
    refusal = why_not_change_email(db.session, garage, current_actor())
    if refusal is not None:
        # As a passport's forms: a form not allowed goes back with the reason.
        flash(str(refusal), "warning")
        return redirect(next_url)
    form = GarageEmailForm()
    answer = submitted(
        form,
        lambda: change_garage_email(db.session, garage_id, form.email.data, actor=current_actor()),
        done=_l("The garage e-mail is changed; the old and the new address get a mail about it."),
        next_url=next_url,
    )
    if not form.is_submitted():
        form.email.data = garage.email
    return answer or view.render_template(
        "console/garage_email.html",
        form=form,
        garage=garage,
        title=_l("Garage e-mail of %(garage)s", garage=garage.name),
    )


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG or JPEG, at most 512 KB)"), validators=[FileRequired()])


def _own_garage_id() -> int:
    garage_id = getattr(g.get("scope"), "garage_id", None)
    if not garage_id:
        abort(404)
    return garage_id
