"""Public pages behind mailed links: activate a passport, accept a transfer, a driver's
access (R-PP-4, R-TR-2, R-FL-5). The link says which profile; the holder proves who he is
with a new login's password or his existing login's password (passports.identify_link_holder)."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from admin_app.db import unit_of_work
from admin_app.domain.errors import DomainError, Forbidden
from admin_app.extensions import appbuilder, db
from admin_app.services import passports as passport_rules
from admin_app.services import transfers
from admin_app.services.audit import Actor
from admin_app.services.vehicle_values import car_words
from admin_app.views.forms import ConfirmForm, LoginPasswordForm, PasswordForm, show_errors

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
        return self._claim_page(
            email=passport.owner.email,
            claim=lambda password, confirm: passport_rules.activate_passport(
                db.session, token, password=password, confirm=confirm
            )[0],
            welcome=_l("Welcome! %(plate)s is in your vehicles now.", plate=passport.plate_display),
            template="console/activate.html",
            title=_l("Activate your AutoPassport"),
            passport=passport,
        )

    @expose("/access/<token>", methods=["GET", "POST"])
    def driver_access(self, token):
        """A fleet car's new driver logs in or makes his login, and sees the car (R-FL-5)."""
        try:
            driver, _ = passport_rules.driver_for_access_link(db.session, token)
        except DomainError as error:
            return self._dead_link(error)
        return self._claim_page(
            email=driver.email,
            claim=lambda password, confirm: passport_rules.grant_driver_access(
                db.session, token, password=password, confirm=confirm
            ),
            welcome=_l("The car you drive is in your vehicles now."),
            template="console/activate.html",
            title=_l("Your login as driver, %(email)s", email=driver.email),
            passport=None,
        )

    def _claim_page(self, *, email, claim, welcome, template, title, passport):
        known = passport_rules.owner_login(db.session, email)
        has_login = passport_rules.asks_own_password(known)
        form = LoginPasswordForm() if has_login else PasswordForm()
        if form.validate_on_submit():
            confirm = None if has_login else form.conf_password.data
            try:
                with unit_of_work(db.session, Actor(known.id if known else None, email)):
                    user = claim(form.password.data, confirm)
            except DomainError as error:
                if not show_errors(form, error):
                    flash(str(error.message), "danger")
            else:
                login_user(user)
                flash(str(welcome), "success")
                return redirect(url_for(MY_VEHICLES))
        return self.render_template(
            template,
            form=form,
            passport=passport,
            # The car as mails name it: brand and model as they count (issue 18).
            car=car_words(db.session, passport) if passport else None,
            email=email,
            needs_password=not has_login,
            title=title,
        )

    @expose("/transfer/accept/<token>", methods=["GET", "POST"])
    def accept(self, token):
        logged_in = g.user is not None and g.user.is_authenticated
        actor = Actor.of_user(g.user) if logged_in else None
        try:
            transfer = transfers.transfer_for_accept_link(db.session, token, actor=actor)
        except Forbidden as error:
            # Shown to its recipient only: another login learns nothing about the car.
            flash(str(error.message), "danger")
            return redirect(appbuilder.get_url_for_index)
        except DomainError as error:
            return self._dead_link(error)
        if not logged_in:
            flash(str(_l("Log in with the address this mail came to, to accept the car.")), "info")
            return redirect(appbuilder.get_url_for_login_with(request.path))
        form = ConfirmForm()
        if form.validate_on_submit():
            try:
                with unit_of_work(db.session):
                    transfers.accept_transfer(db.session, token, actor=actor)
            except DomainError as error:
                flash(str(error.message), "danger")
            else:
                flash(str(_l("The car is in your vehicles now.")), "success")
                return redirect(url_for(MY_VEHICLES))
        return self.render_template(
            "console/accept.html",
            form=form,
            car=car_words(db.session, transfer.passport),
            title=_l("Accept the car"),
        )

    def _dead_link(self, error):
        flash(str(error.message), "danger")
        return redirect(appbuilder.get_url_for_login)
