from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from wtforms import StringField
from wtforms.validators import DataRequired

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, DomainError
from admin_app.extensions import db
from admin_app.models import ConsoleUser
from admin_app.roles import role_label, roles_text
from admin_app.services import accounts
from admin_app.services.labels import USER_LABELS
from admin_app.views.base import ConsoleModelView, PageInterface
from admin_app.views.formatting import DELETED, SAVED, display_value, local_datetime
from admin_app.views.forms import fits, submitted
from admin_app.web.filters import FilterPeople
from admin_app.web.permissions import READ_WRITE

# FAB's own screens would print True, None and [Owner].
USER_FORMATTERS = {
    "active": display_value,
    "garage": display_value,
    "fleet_account": display_value,
    "roles": roles_text,
    "last_login": local_datetime,
    "created_on": local_datetime,
    "changed_on": local_datetime,
}
_LOGIN_FIELDS = ["username", "active", "roles", "garage", "fleet_account"]
_PERSON_FIELDS = ["first_name", "last_name", "email"]


class UserInterface(PageInterface):
    """The user screen's datamodel (given to it by the security manager)."""

    def add(self, item, commit=True):
        # FAB's form checks that user name and e-mail are free, but two submits at once
        # both pass that check and the second insert fails; FAB would flash the
        # database's own error text (SQL included). Say what happened instead.
        try:
            super().add(item, commit)
        except IntegrityError:
            raise Conflict(accounts.LOGIN_TAKEN) from None


class ConsoleUserView(UserDBModelView):
    """Admin's user screen: FAB's, plus the tenant each login works for."""

    datamodel = SQLAInterface(ConsoleUser)  # replaced by the security manager's (eager)
    exclude_route_methods = {"download"}
    list_columns = ["first_name", "last_name", "username", "email", "active", "roles", "garage"]
    base_filters = [["id", FilterPeople, None]]
    show_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "active",
        "roles",
        "garage",
        "fleet_account",
        "last_login",
    ]
    add_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "roles",
        "garage",
        "fleet_account",
        "password",
        "conf_password",
    ]
    edit_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "roles",
        "garage",
        "fleet_account",
    ]
    search_columns = ["username", "email", "last_name", "garage"]
    label_columns = {**USER_LABELS}
    # FAB's own hints speak of DB, LDAP and OID logins this console does not have.
    description_columns = {
        "username": _l("The name this login signs in with."),
        "active": _l(
            "A login that is not active cannot sign in: disable it rather than delete it."
        ),
        "email": _l("Password links for this login are mailed to this address."),
        "roles": _l("What this login may do."),
        "garage": _l("For a garage's staff: the garage they work for."),
        "fleet_account": _l("For a fleet manager: the fleet account he manages."),
    }
    formatters_columns = USER_FORMATTERS
    # FAB's fieldsets name columns we do not label (created_by, "Audit Info").
    show_fieldsets = [
        (_l("Account"), {"fields": _LOGIN_FIELDS}),
        (_l("Person"), {"fields": _PERSON_FIELDS, "expanded": True}),
        (
            _l("Activity"),
            {
                "fields": [
                    "last_login",
                    "login_count",
                    "fail_login_count",
                    "created_on",
                    "changed_on",
                ]
            },
        ),
    ]
    user_show_fieldsets = [
        (_l("Account"), {"fields": _LOGIN_FIELDS}),
        (_l("Person"), {"fields": _PERSON_FIELDS, "expanded": True}),
    ]
    # FAB's own validator reads a "groups" field this screen does not have: a form sent
    # without a role was a KeyError, a 500 (issue 13). A login needs a role.
    validators_columns = {"roles": [DataRequired()]}
    add_row_message = SAVED
    edit_row_message = SAVED
    delete_row_message = DELETED

    @expose("/userinfo/")
    @has_access
    def userinfo(self):
        # FAB shows g.user as the identity map has it: loaded at login before the
        # request's scope was bound, so a lazy load of its garage or fleet account inherits
        # that load's criteria and found nothing ("Garage —" for a garage's own login).
        # Read it again, with both, in this request's scope.
        item = (
            db.session.scalars(
                select(ConsoleUser)
                .where(ConsoleUser.id == g.user.id)
                .options(joinedload(ConsoleUser.garage), joinedload(ConsoleUser.fleet_account))
                .execution_options(populate_existing=True)
            )
            .unique()
            .one()
        )
        widgets = self._get_show_widget(item.id, item, show_fieldsets=self.user_show_fieldsets)
        self.update_redirect()
        return self.render_template(
            self.show_template,
            title=self.user_info_title,
            widgets=widgets,
            appbuilder=self.appbuilder,
        )

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            # The role choices read as the roles' labels, not their keys; "no garage" as
            # the dash the screens show for nothing (FAB's empty choice read "__None").
            form.roles.kwargs["get_label"] = role_label
            form.garage.kwargs["blank_text"] = "—"
            form.fleet_account.kwargs["blank_text"] = "—"


class NewColleagueForm(FlaskForm):
    first_name = StringField(_l("First name"), [DataRequired(), fits(ConsoleUser, "first_name")])
    last_name = StringField(_l("Last name"), [DataRequired(), fits(ConsoleUser, "last_name")])
    username = StringField(_l("User name"), [DataRequired(), fits(ConsoleUser, "username")])
    email = StringField(_l("E-mail"), [DataRequired(), fits(ConsoleUser, "email")])


class ColleagueView(ConsoleModelView):
    """A garage's staff logins: its users may add colleagues and disable them."""

    route_base = "/colleagues"
    class_permission_name = "Colleague"
    include_route_methods = {"list", "show", "new", "action", "action_post"}
    method_permission_name = {**READ_WRITE, "new": "write", "disable": "write", "enable": "write"}
    datamodel = SQLAInterface(ConsoleUser)
    list_title = _l("Colleagues")
    show_title = _l("Colleague")
    list_columns = ["first_name", "last_name", "username", "email", "active", "last_login"]
    base_filters = [["id", FilterPeople, None]]
    show_columns = list_columns
    label_columns = {**USER_LABELS}
    formatters_columns = USER_FORMATTERS
    search_columns = ["username", "email", "last_name"]
    base_order = ("last_name", "asc")

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = NewColleagueForm()
        answer = submitted(
            form,
            lambda: accounts.add_colleague(
                db.session,
                garage_id=_own_garage_id(),
                username=form.username.data,
                email=form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
            ),
            done=_l("The colleague is added and gets a mail to choose a password."),
            next_url=url_for(f"{self.endpoint}.list"),
        )
        return answer or self.render_template(
            "console/form.html", form=form, title=_l("New colleague")
        )

    @action("disable", _l("Disable"), _l("Disable the selected logins?"), "fa-ban")
    def disable(self, items):
        return self._set_active(items, False)

    @action("enable", _l("Enable"), None, "fa-check")
    def enable(self, items):
        return self._set_active(items, True)

    def _set_active(self, items, active: bool):
        items = items if isinstance(items, list) else [items]
        try:
            with unit_of_work(db.session):
                for item in items:
                    accounts.set_colleague_active(
                        db.session,
                        garage_id=_own_garage_id(),
                        user_id=item.id,
                        active=active,
                        actor_id=g.user.id,
                    )
        except DomainError as error:
            flash(str(error.message), "danger")
        else:
            flash(str(_l("Saved.")), "success")
        return redirect(url_for(f"{self.endpoint}.list"))


def _own_garage_id() -> int:
    garage_id = getattr(g.get("scope"), "garage_id", None)
    if not garage_id:
        abort(404)
    return garage_id
