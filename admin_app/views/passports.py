from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask import session as browser_session
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import BaseFilter, FilterEqual, FilterNotEqual
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.orm import aliased

from admin_app.domain.errors import InvalidInput
from admin_app.domain.plates import normalize_plate
from admin_app.extensions import db
from admin_app.models import Customer, FleetAccount, Garage, Passport
from admin_app.models.passports import STATE_LABELS
from admin_app.services import passports as passport_rules
from admin_app.services import recalls, search_copy, vehicle_values
from admin_app.services.audit import describe_entries
from admin_app.services.emails import valid_email
from admin_app.services.labels import PASSPORT_LABELS
from admin_app.services.passport_export import PASSPORT_EXPORT
from admin_app.services.passports import PersonDetails, VehicleDetails
from admin_app.services.units import kilometres
from admin_app.views.base import ConsoleModelView, PageInterface
from admin_app.views.exports import ExportableList
from admin_app.views.forms import (
    ConfirmForm,
    EmailForm,
    FleetAccountForm,
    FleetLinkForm,
    MoveForm,
    NewPassportForm,
    PassportEditForm,
    attempt,
    submitted,
)
from admin_app.views.passport_forms import cancel_transfer_of, not_allowed, transfer_page
from admin_app.views.passport_profile import (
    ASK_RESEND,
    passport_history,
    profile_context,
    state_badge,
)
from admin_app.views.register_values import list_register_values, show_register_values
from admin_app.views.tasks import BulkListWidget, bulk_bar, bulk_page
from admin_app.web.actor import current_actor
from admin_app.web.filters import LIKE_ESCAPE, like_text
from admin_app.web.lookup import scoped_or_404

# The vehicle block every profile of a passport starts with.
VEHICLE_COLUMNS = (
    "plate_label",
    "brand",
    "model",
    "fuel",
    "first_registration",
    "apk_expiry",
    "next_service",
    "mobility_renewal",
)


class FilterPlateNameOrEmail(BaseFilter):
    """One search box for the counter: a plate in any notation, a name or an e-mail."""

    name = _l("Plate, name or e-mail")
    arg_name = "pne"

    def apply(self, query, value):
        text = (value or "").strip()
        if not text:
            return query
        if valid_email(text):
            # A whole address (support fixing one): its exact owner, by the lower(email)
            # index; plates never contain "@".
            owners = select(Customer.id).where(func.lower(Customer.email) == text.lower())
            return query.filter(Passport.owner_id.in_(owners.correlate(None)))
        plate = normalize_plate(text)
        owners = search_copy.customers_matching(f"%{like_text(text)}%", LIKE_ESCAPE)
        # One set of ids from two index searches (the owners' names and e-mails, and the
        # plates, by trigram): an OR across them would read the whole table.
        found = aliased(Passport)
        matches = select(found.id).where(found.owner_id.in_(owners))
        if plate:
            matches = union(matches, search_copy.passports_matching(plate))
        return query.filter(Passport.id.in_(matches))


class PassportView(ExportableList, ConsoleModelView):
    route_base = "/passports"
    class_permission_name = "Passport"
    include_route_methods = {
        "list",
        "show",
        "action",
        "action_post",
        "new",
        "register_fill",
        "edit_profile",
        "send",
        "archive",
        "transfer",
        "email",
        "move",
        "new_fleet_account",
        "fleet",
        "cancel_transfer",
        "export",
        "bulk_send",
        "bulk_archive",
        "bulk_link",
        "bulk_unlink",
    }
    datamodel = PageInterface(Passport)
    list_template = "console/list_export.html"
    export_list = PASSPORT_EXPORT
    export_filter_words = {"state": STATE_LABELS}
    list_title = _l("Passports")
    list_widget = BulkListWidget
    show_title = _l("Customer profile")
    list_columns = [
        "plate_label",
        "brand",
        "model",
        "owner_name",
        "owner_email",
        "state",
        "fleet_account",
        "garage",
    ]
    formatters_columns = {"state": state_badge, "odometer": kilometres}
    show_columns = [
        *VEHICLE_COLUMNS,
        "odometer",
        "owner_name",
        "owner_email",
        "driver",
        "fleet_account",
        "stock_car",
        "state_label",
        "created_via_label",
        "garage",
        "created_at",
    ]
    label_columns = {**PASSPORT_LABELS}
    search_columns = ["plate", "state"]
    # "Not equal to": every live passport (state not archived), e.g. to export the
    # garage's customers as a list to upload again (issue 15).
    search_filters = {
        "plate": [FilterPlateNameOrEmail],
        "state": [FilterEqual, FilterNotEqual],
    }
    base_order = ("id", "desc")
    show_template = "console/passport_show.html"

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        show_register_values(self.datamodel.session, widgets["show"], item)
        widgets["history"] = describe_entries(
            self.datamodel.session,
            passport_history(self.datamodel.session, item),
            str(get_locale()),
        )
        widgets["profile"] = profile_context(self.datamodel.session, item, self.endpoint)
        widgets["open_recalls"] = recalls.open_recalls_of(self.datamodel.session, item.plate)
        return widgets

    def _get_list_widget(self, filters, **kwargs):
        widgets = super()._get_list_widget(filters, **kwargs)
        list_widget = widgets["list"]
        # First: the bulk bar finds the page's passports in the identity map, which holds
        # them only while FAB's row generator is unread (list_register_values reads it).
        list_widget.template_args["bulk"] = bulk_bar(self, list_widget.template_args["pks"])
        list_register_values(self.datamodel.session, list_widget.template_args)
        return widgets

    # --- bulk actions on the list (issue 15) --------------------------------------------

    @expose("/bulk/send", methods=["GET", "POST"])
    @has_access
    def bulk_send(self):
        return bulk_page(self, "send")

    @expose("/bulk/archive", methods=["GET", "POST"])
    @has_access
    def bulk_archive(self):
        return bulk_page(self, "archive")

    @expose("/bulk/link", methods=["GET", "POST"])
    @has_access
    def bulk_link(self):
        return bulk_page(self, "link")

    @expose("/bulk/unlink", methods=["GET", "POST"])
    @has_access
    def bulk_unlink(self):
        return bulk_page(self, "unlink")

    # --- create (R-PP-1) ----------------------------------------------------------------

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = NewPassportForm()
        form.fleet_account_id.choices = [("", "—")] + [
            (str(f.id), f.name)
            for f in db.session.scalars(select(FleetAccount).order_by(FleetAccount.name))
        ]
        vehicle_fields = ("brand", "model", "fuel", "first_registration", "apk_expiry")
        answer = submitted(
            form,
            lambda: passport_rules.create_passport(
                db.session,
                actor=current_actor(),
                plate=form.plate.data,
                person=PersonDetails.from_mapping(form.person_data()),
                vehicle=VehicleDetails.from_mapping({f: form[f].data for f in vehicle_fields}),
                fleet_account_id=form.fleet_account_id.data or None,
            ),
            done=lambda passport: _l(
                "Passport %(plate)s is created.", plate=passport.plate_display
            ),
            next_url=lambda passport: url_for(f"{self.endpoint}.show", pk=passport.id),
        )
        return answer or self.render_template(
            "console/form.html",
            form=form,
            title=_l("New passport"),
            fields=form.FIELD_ORDER,
            register_fill=url_for(f"{self.endpoint}.register_fill"),
        )

    @expose("/register-fill")
    @has_access
    def register_fill(self):
        """JSON for the new-passport form (issue 18): the register's values of the typed
        plate, filled in before saving where the user typed nothing (register_fill.js).
        Only who may create passports; the register itself is no garage's."""
        try:
            values = vehicle_values.register_fill(db.session, request.args.get("plate", ""))
        except InvalidInput as error:
            return jsonify(message=str(error.message)), 422
        if values is None:
            return jsonify(message=str(_l("The vehicle register does not know this plate."))), 404
        return jsonify(values)

    # --- edit in place (R-PP-1) ---------------------------------------------------------

    @expose("/<int:pk>/edit-profile", methods=["GET", "POST"])
    @has_access
    def edit_profile(self, pk):
        """The profile with its details as a form (issue 15); saved, the profile again.
        Refused, the same page with each message at its field and all typed kept."""
        passport = scoped_or_404(Passport, pk)
        refused_here = not_allowed(self, passport, "edit")
        if refused_here:
            return refused_here
        form = PassportEditForm()
        refusals = []
        if form.validate_on_submit():
            answer = attempt(
                lambda: passport_rules.update_passport(
                    db.session, pk, form.changes(), actor=current_actor()
                ),
                done=_l("The profile is saved."),
                next_url=url_for(f"{self.endpoint}.show", pk=pk),
                form=form,
                on_refusal=refusals.append,
            )
            if answer:
                return answer
        if not form.is_submitted():
            form.fill(passport)
        car = vehicle_values.values_of_one(db.session, passport)
        form.show_register({name: value.register for name, value in car.fields().items()})
        status = refusals[0].status if refusals else 422 if form.is_submitted() else 200
        return self.profile_page(pk, edit_form=form), status

    def profile_page(self, pk, **extra):
        """The profile as show() renders it, with ``extra`` for its template."""
        widgets = self._show(pk)
        widgets["profile"].update(extra)
        return self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=widgets,
            related_views=self._related_views,
        )

    # --- actions on the profile ---------------------------------------------------------

    @expose("/<int:pk>/send", methods=["POST"])
    @has_access
    def send(self, pk):
        # "Send now" in the leave dialog sends, then goes where the user was going (R-PP-4).
        return self._act(
            pk,
            lambda: passport_rules.send_passport(db.session, pk, actor=current_actor()),
            _l("The passport is sent to the customer."),
            then=local_target(request.form.get("next")),
        )

    @expose("/<int:pk>/archive", methods=["POST"])
    @has_access
    def archive(self, pk):
        return self._act(
            pk,
            lambda: passport_rules.archive_passport(db.session, pk, actor=current_actor()),
            _l("The passport is archived; its plate is free again."),
        )

    def _act(self, pk, action, done, then=None):
        scoped_or_404(Passport, pk)
        profile = url_for(f"{self.endpoint}.show", pk=pk)
        return submitted(ConfirmForm(), action, done=done, next_url=then or profile) or redirect(
            profile
        )

    @expose("/<int:pk>/cancel-transfer", methods=["POST"])
    @has_access
    def cancel_transfer(self, pk):
        return cancel_transfer_of(self, pk)

    @expose("/<int:pk>/transfer", methods=["GET", "POST"])
    @has_access
    def transfer(self, pk):
        return transfer_page(self, pk)

    @expose("/<int:pk>/email", methods=["GET", "POST"])
    @has_access
    def email(self, pk):
        passport = scoped_or_404(Passport, pk)
        refused_here = not_allowed(self, passport, "email")
        if refused_here:
            return refused_here
        form = EmailForm()

        def change():
            passport_rules.change_owner_email(
                db.session, pk, form.email.data, actor=current_actor()
            )
            if passport_rules.refusal_of(db.session, current_actor(), passport, "send"):
                return  # activated or transferred: no activation mail to send again
            if form.resend.data:
                passport_rules.send_passport(db.session, pk, actor=current_actor())
            else:
                # Not resent now: the profile asks again when it is left (R-BJ-7).
                browser_session[ASK_RESEND] = pk

        answer = submitted(
            form,
            change,
            done=_l("The e-mail address is changed."),
            next_url=url_for(f"{self.endpoint}.show", pk=pk),
        )
        if not form.is_submitted():
            form.email.data = passport.owner.email
        return answer or self.render_template(
            "console/form.html",
            form=form,
            fields=("email", "resend"),
            title=_l("E-mail of the owner of %(plate)s", plate=passport.plate_display),
        )

    @expose("/<int:pk>/fleet-account", methods=["GET", "POST"])
    @has_access
    def new_fleet_account(self, pk):
        """R-FL-1: a fleet account managed by the owner of this (activated) passport."""
        from admin_app.services import fleets

        passport = scoped_or_404(Passport, pk)
        form = FleetAccountForm()
        answer = submitted(
            form,
            lambda: fleets.create_fleet_account(
                db.session,
                actor=current_actor(),
                name=form.name.data,
                email=form.email.data,
                manager_passport_id=pk,
            ),
            done=lambda fleet: _l(
                "Fleet account %(name)s is created; %(email)s gets a mail to choose a password.",
                name=fleet.name,
                email=fleet.email,
            ),
            next_url=lambda fleet: url_for("FleetAccountView.show", pk=fleet.id),
        )
        if not form.is_submitted():
            form.name.data = passport.owner.full_name
        return answer or self.render_template(
            "console/form.html",
            form=form,
            fields=("name", "email"),
            title=_l(
                "New fleet account, managed by the owner of %(plate)s", plate=passport.plate_display
            ),
        )

    @expose("/<int:pk>/fleet", methods=["POST"])
    @has_access
    def fleet(self, pk):
        """R-FL-3: link to the fleet account typed by name, or unlink (empty name)."""
        from admin_app.services import fleets

        scoped_or_404(Passport, pk)
        form = FleetLinkForm()
        name = (form.fleet_name.data or "").strip()

        def link_or_unlink():
            if not name:
                return fleets.unlink_passport(db.session, pk, actor=current_actor())
            fleet = fleets.fleet_for_name(db.session, name)
            return fleets.link_passport(
                db.session, pk, fleet.id if fleet else None, actor=current_actor()
            )

        profile = url_for(f"{self.endpoint}.show", pk=pk)
        done = (
            _l("Linked to %(name)s.", name=name) if name else _l("Unlinked from its fleet account.")
        )
        answer = submitted(form, link_or_unlink, done=done, next_url=profile)
        # Refused: the profile again, the fleet account's name as typed (issue 14).
        return answer or (self.show(pk), 422)

    @expose("/<int:pk>/move", methods=["GET", "POST"])
    @has_access
    def move(self, pk):
        passport = scoped_or_404(Passport, pk)
        refused_here = not_allowed(self, passport, "move")
        if refused_here:
            return refused_here
        form = MoveForm()
        form.garage_id.choices = [
            (str(garage.id), garage.name)
            for garage in db.session.scalars(select(Garage).order_by(Garage.name))
            if garage.id != passport.garage_id
        ]
        answer = submitted(
            form,
            lambda: passport_rules.move_passport(
                db.session, pk, int(form.garage_id.data or 0), actor=current_actor()
            ),
            done=_l("The passport is moved."),
            next_url=url_for(f"{self.endpoint}.show", pk=pk),
        )
        return answer or self.render_template(
            "console/form.html",
            form=form,
            fields=("garage_id",),
            title=_l("Move %(plate)s to another garage", plate=passport.plate_display),
        )


def local_target(url: str | None) -> str | None:
    """A path on this site to continue to, or None (no redirect to another site)."""
    url = (url or "").strip()
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    # A browser drops tabs and line breaks from an address ("/<tab>/evil.example" is
    # "//evil.example"), and a line break cannot go in the Location header (a 500).
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in url):
        return None
    return url
