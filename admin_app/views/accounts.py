"""Public pages: "forgot password" and the mailed reset link (R-SEC-3)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin_app.db import unit_of_work
from admin_app.domain.errors import DomainError
from admin_app.extensions import appbuilder, db
from admin_app.models import ConsoleUser
from admin_app.scope import unscoped
from admin_app.services import accounts
from admin_app.services.audit import Actor
from admin_app.views.forms import MAX_PASSWORD, fits


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(
        _l("User name or e-mail address"), [DataRequired(), fits(ConsoleUser, "email")]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), [DataRequired(), Length(max=MAX_PASSWORD)])
    conf_password = PasswordField(
        _l("Repeat the new password"), [DataRequired(), Length(max=MAX_PASSWORD)]
    )


class PasswordResetView(BaseView):
    route_base = ""
    default_view = "forgot"

    @expose("/forgot-password", methods=["GET", "POST"])
    def forgot(self):
        form = ForgotPasswordForm()
        if form.validate_on_submit():
            # The worker looks the name up: this request does the same for every name.
            accounts.queue_password_reset(form.identifier.data.strip())
            flash(
                str(
                    _l(
                        "If a login with this name or address exists, a mail with a "
                        "link is on its way. The link works once, for one hour."
                    )
                ),
                "info",
            )
            return redirect(appbuilder.get_url_for_login)
        return self.render_template(
            "console/form.html",
            form=form,
            title=_l("Forgot your password?"),
            submit_label=_l("Mail me a link"),
        )

    @expose("/reset-password/<token>", methods=["GET", "POST"])
    def reset(self, token):
        form = NewPasswordForm()
        try:
            with unscoped():
                user = accounts.user_for_reset_link(db.session, token)
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(url_for(f"{self.endpoint}.forgot"))
        if form.validate_on_submit():
            try:
                with unscoped(), unit_of_work(db.session, Actor.of_user(user)):
                    accounts.reset_password(
                        db.session, token, form.password.data, form.conf_password.data
                    )
            except DomainError as error:
                flash(str(error.message), "danger")
            else:
                flash(str(_l("Your password is set. Log in with it.")), "success")
                return redirect(appbuilder.get_url_for_login)
        return self.render_template(
            "console/form.html",
            form=form,
            title=_l("Choose a new password for %(username)s", username=user.username),
        )
