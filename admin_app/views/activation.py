"""Public pages behind mailed links: activate a passport, accept a transfer (R-PP-4, R-TR-2)."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from admin_app.extensions import appbuilder, db
from admin_app.services import passports as passport_rules
from admin_app.services import transfers
from admin_app.services.audit import Actor
from admin_app.services.errors import DomainError
from admin_app.services.uow import unit_of_work
from admin_app.views.forms import ConfirmForm, PasswordForm, show_errors

MY_VEHICLES = "MyVehiclesView.list"


class ActivationView(BaseView):
    route_base = ""
    default_view = "activate"

    @expose("/activate/<token>", methods=["GET", "POST"])
    def activate(self, token):
        try:
            passport = passport_rules.passport_for_activation(db.session, token)
        except DomainError as error:
            return self._dead_link(error)
        known = passport_rules.owner_login(db.session, passport.owner.email)
        needs_password = known is None or not known.password
        form = PasswordForm() if needs_password else ConfirmForm()
        if form.validate_on_submit():
            try:
                with unit_of_work(
                    db.session, Actor(known.id if known else None, passport.owner.email)
                ):
                    user, _ = passport_rules.activate_passport(
                        db.session,
                        token,
                        password=form.password.data if needs_password else None,
                        confirm=form.conf_password.data if needs_password else None,
                    )
            except DomainError as error:
                if not show_errors(form, error):
                    flash(str(error.message), "danger")
            else:
                login_user(user)
                flash(
                    str(
                        _l(
                            "Welcome! %(plate)s is in your vehicles now.",
                            plate=passport.plate_display,
                        )
                    ),
                    "success",
                )
                return redirect(url_for(MY_VEHICLES))
        return self.render_template(
            "console/activate.html",
            form=form,
            passport=passport,
            needs_password=needs_password,
            title=_l("Activate your AutoPassport"),
        )

    @expose("/transfer/accept/<token>", methods=["GET", "POST"])
    def accept(self, token):
        try:
            transfer = transfers.transfer_for_accept_link(db.session, token)
        except DomainError as error:
            return self._dead_link(error)
        if not g.user or not g.user.is_authenticated:
            flash(
                str(_l("Log in as %(email)s to accept the car.", email=transfer.to_email)), "info"
            )
            return redirect(appbuilder.get_url_for_login_with(request.path))
        form = ConfirmForm()
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    transfers.accept_transfer(db.session, token, actor=Actor.of_user(g.user))
            except DomainError as error:
                flash(str(error.message), "danger")
            else:
                flash(str(_l("The car is in your vehicles now.")), "success")
                return redirect(url_for(MY_VEHICLES))
        return self.render_template(
            "console/accept.html", form=form, transfer=transfer, title=_l("Accept the car")
        )

    @expose("/access/<token>", methods=["GET", "POST"])
    def driver_access(self, token):
        """A fleet car's new driver chooses his password and sees the car (R-FL-5)."""
        try:
            driver = passport_rules.driver_for_access_link(db.session, token)
        except DomainError as error:
            return self._dead_link(error)
        form = PasswordForm()
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session, Actor(None, driver.email)):
                    user = passport_rules.grant_driver_access(
                        db.session,
                        token,
                        password=form.password.data,
                        confirm=form.conf_password.data,
                    )
            except DomainError as error:
                if not show_errors(form, error):
                    flash(str(error.message), "danger")
            else:
                login_user(user)
                return redirect(url_for(MY_VEHICLES))
        return self.render_template(
            "console/form.html",
            form=form,
            fields=("password", "conf_password"),
            title=_l("Your login as driver, %(email)s", email=driver.email),
        )

    def _dead_link(self, error):
        flash(str(error.message), "danger")
        return redirect(appbuilder.get_url_for_login)
