from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask import session as browser_session
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import BaseFilter, FilterEqual, FilterNotEqual
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import aliased

from admin_app.domain.errors import InvalidInput
from admin_app.domain.plates import normalize_plate, plate_part
from admin_app.extensions import db
from admin_app.models import AuditLog, Customer, FleetAccount, Garage, OutboxMessage, Passport
from admin_app.models.base import utcnow
from admin_app.models.passports import STATE_LABELS, PassportState
from admin_app.models.transfers import Transfer
from admin_app.services import data_exports, inspections, recalls, transfers, vehicle_values
from admin_app.services import passports as passport_rules
from admin_app.services.audit import actor_names, describe_entries
from admin_app.services.emails import valid_email
from admin_app.services.labels import PASSPORT_LABELS
from admin_app.services.passport_export import PASSPORT_EXPORT
from admin_app.services.passports import PersonDetails, VehicleDetails
from admin_app.services.units import kilometres
from admin_app.views.base import ConsoleModelView, PageInterface
from admin_app.views.calendar_feeds import calendar_panel
from admin_app.views.exports import ExportableList
from admin_app.views.formatting import display_value
from admin_app.views.forms import (
    ConfirmForm,
    EmailForm,
    FleetAccountForm,
    FleetLinkForm,
    MoveForm,
    NewPassportForm,
    PassportEditForm,
    TransferForm,
    attempt,
    submitted,
)
from admin_app.views.inspections import read_only_form, result_summary
from admin_app.views.tasks import BulkListWidget, bulk_bar, bulk_page
from admin_app.views.widgets import StackedListWidget
from admin_app.web.actor import current_actor
from admin_app.web.filters import LIKE_ESCAPE, like_text
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE

ASK_RESEND = "ask_resend_passport"

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

STATE_STYLES = {
    PassportState.created.value: "warning",  # not sent yet: it must stand out
    PassportState.sent.value: "info",
    PassportState.activated.value: "success",
    PassportState.transfer_pending.value: "primary",
    PassportState.archived.value: "default",
}


# The profile's buttons by the action they take, for the reason shown in a button's place.
ACTION_LABELS = {
    "send": _l("Send to the customer"),
    "transfer": _l("Transfer to a customer"),
    "email": _l("Change the e-mail address"),
    "move": _l("Move to another garage"),
    "archive": _l("Archive"),
    "edit": _l("Edit"),
}


def state_badge(state: str) -> Markup:
    label = escape(str(STATE_LABELS.get(state, state)))
    return Markup(
        f'<span class="label label-{STATE_STYLES.get(state, "default")} '
        f'state-{escape(state)}">{label}</span>'
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
        like = f"%{like_text(text)}%"
        owners = (
            select(Customer.id)
            .where(
                or_(
                    func.lower(Customer.last_name).like(like, escape=LIKE_ESCAPE),
                    func.lower(Customer.email).like(like, escape=LIKE_ESCAPE),
                )
            )
            .correlate(None)
        )
        # One set of ids from two index searches (the owners' names and e-mails, and the
        # plates, by trigram): an OR across them would read the whole table.
        found = aliased(Passport)
        matches = select(found.id).where(found.owner_id.in_(owners))
        if plate:
            matches = union(matches, select(found.id).where(found.plate.like(plate_part(plate))))
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


def not_allowed(view, passport: Passport, action: str):
    """A form opened (GET) for an action the actor may not take on this passport: back to
    the profile with the reason, instead of refusing only after it was filled in."""
    if request.method != "GET":
        return None  # a post is refused by the service, with what was typed kept
    refusal = passport_rules.refusal_of(db.session, current_actor(), passport, action)
    if refusal is None:
        return None
    flash(str(refusal.reason), "warning")
    return redirect(url_for(f"{view.endpoint}.show", pk=passport.id))


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


def cancel_transfer_of(view, pk, back: str | None = None):
    """Cancel the car's waiting transfer (R-TR-2): the button for whoever may (the
    service decides: the garage, Support, Admin, the fleet manager, the owner who started
    it)."""
    passport = scoped_or_404(Passport, pk)
    back = back or url_for(f"{view.endpoint}.show", pk=pk)
    refusal = passport_rules.refusal_of(db.session, current_actor(), passport, "cancel_transfer")
    if refusal is not None and refusal.for_this_passport:  # none waiting: nothing to confirm
        flash(str(refusal.reason), "warning")
        return redirect(back)
    # A role that may not cancel it is refused by the service, after the form's checks.
    transfer = passport_rules.pending_transfer(db.session, passport)
    return submitted(
        ConfirmForm(),
        lambda: transfers.cancel_transfer(db.session, transfer.id, actor=current_actor()),
        done=_l("The transfer is cancelled; the car is back as it was."),
        next_url=back,
    ) or redirect(back)


def transfer_page(view, pk, kind: str = "owner"):
    """The transfer form (R-TR-1, R-FL-5): the new owner's or driver's details, the
    e-mail checked twice."""
    passport = scoped_or_404(Passport, pk)
    refused_here = not_allowed(view, passport, "transfer")
    if refused_here:
        return refused_here
    form = TransferForm()
    answer = None
    if form.is_submitted() and not same_email(form.email.data, form.email_again.data):
        form.validate()
        form.email_again.errors = [str(_l("The two e-mail addresses differ."))]
    else:
        answer = submitted(
            form,
            lambda: transfers.confirm_transfer_form(
                db.session,
                pk,
                actor=current_actor(),
                kind=kind,
                person=PersonDetails.from_mapping(form.person_data()),
                confirmation_key=form.confirmation_key.data or None,
            ),
            done=transfer_outcome,
            next_url=url_for(f"{view.endpoint}.list"),
        )
    if answer is None:
        # A new key each time the form is shown: a refused submit did nothing, and one
        # confirmed before with other details is done; the next confirm is a new one.
        form.confirmation_key.data = transfers.new_confirmation_key()
    return answer or view.render_template(
        "console/form.html",
        form=form,
        fields=form.FIELD_ORDER,
        title=(
            _l("New driver of %(plate)s", plate=passport.plate_display)
            if kind == "driver"
            else _l("Transfer %(plate)s to a new owner", plate=passport.plate_display)
        ),
        submit_label=_l("Confirm the new driver")
        if kind == "driver"
        else _l("Confirm the transfer"),
    )


def same_email(first: str | None, second: str | None) -> bool:
    return (first or "").strip().lower() == (second or "").strip().lower()


def transfer_outcome(started: transfers.TransferStarted):
    """What the person who confirmed a transfer is told happens next: the path the service
    says it took (services/transfers.TransferPath)."""
    email = started.transfer.to_email
    match started.path:
        case transfers.TransferPath.new_driver:
            return _l("%(email)s drives the car now; it stays in the fleet.", email=email)
        case transfers.TransferPath.awaits_activation:
            return _l(
                "%(email)s gets a mail to activate the passport; the car leaves the fleet "
                "when he does.",
                email=email,
            )
        case transfers.TransferPath.awaits_acceptance:
            return _l(
                "%(email)s has a login: the transfer waits until he accepts it (14 days).",
                email=email,
            )
    return _l(
        "The car is transferred; %(email)s gets a mail to activate the passport.", email=email
    )


def show_register_values(session, show_widget, passport: Passport, *, marked=True) -> None:
    """The car's values as they count (services/vehicle_values.py, issue 18) in place of
    the passport's typed columns; ``marked``, each with whence it came (the garage's
    profile). An owner or fleet manager typed none of them: he reads the values only."""
    car = vehicle_values.values_of_one(session, passport)
    args = show_widget.template_args
    columns, values = args["include_columns"], list(args["value_columns"])
    for name, value in car.fields().items():
        if name in columns:
            values[columns.index(name)] = (
                value_with_source(
                    value, car.register_checked_on, later_counts=name == "apk_expiry"
                )
                if marked
                else display_value(value.value)
            )
    args["value_columns"] = values
    args["formatters_columns"] = {
        **args["formatters_columns"],
        **{name: _as_marked for name in vehicle_values.FIELDS},
    }


def list_register_values(session, args) -> None:
    """The list's vehicle values (brand, model, APK expiry, … whichever it shows) as they
    count (typed, else the register's): one register query for the page (issue 18)."""
    pks = args["pks"]
    shown = list(args["value_columns"])  # FAB's generator: read before another query runs
    # Columns, not entities: loading the page's passports again refreshed each one on its
    # own (a statement per row).
    typed = session.execute(
        select(Passport.id, Passport.plate, *vehicle_values.typed_columns()).where(
            Passport.id.in_(pks)
        )
    ).all()
    values = vehicle_values.values_of(session, typed)
    rows = []
    for pk, row in zip(pks, shown, strict=True):
        car = values.get(pk)
        if car is not None:
            row = {
                **row,
                **{name: value.value for name, value in car.fields().items() if name in row},
            }
        rows.append(row)
    args["value_columns"] = rows


def _as_marked(value):
    return value if isinstance(value, Markup) else display_value(value)


SOURCE_WORDS = '{} <span class="text-muted value-source {}">({})</span>'


def value_with_source(value: vehicle_values.Value, checked_on, *, later_counts=False) -> Markup:
    """One value and its source in words: "Golf (RDW, gezien op 5 december 2026)", or a
    typed one, with the register's beside it when that differs ("RDW: 14-03-2027").
    ``later_counts`` (the APK expiry): two dates that differ say which one counts."""
    if value.source is None:
        return Markup("—")
    words = _source_words(value, checked_on)
    if later_counts and value.differs:
        # Two dates side by side, one in orange: without this a garage guessed which one
        # the reminders follow (the later, vehicle_values._value).
        words += Markup('<br><small class="text-muted apk-counts">{}</small>').format(
            _l("The later date counts for APK reminders and contact proposals.")
        )
    return words


def _source_words(value: vehicle_values.Value, checked_on) -> Markup:
    shown = escape(display_value(value.value))
    if value.source == vehicle_values.REGISTER:
        seen = _l("RDW, seen on %(date)s", date=format_date(checked_on, "long"))
        words = Markup(SOURCE_WORDS).format(shown, "source-register", seen)
        if value.differs:  # an APK date typed earlier than the register's: it lost
            typed = _l("typed in: %(value)s", value=display_value(value.typed))
            words += Markup(' <span class="text-muted typed-differs">{}</span>').format(typed)
        return words
    words = Markup(SOURCE_WORDS).format(shown, "source-typed", _l("typed in"))
    if value.differs:
        other = _l("RDW: %(value)s", value=display_value(value.register))
        words += Markup(' <span class="label label-warning register-differs">{}</span>').format(
            other
        )
    return words


def profile_context(session, passport: Passport, endpoint: str) -> dict:
    """What the customer profile shows besides the fields (which _get_show_widget fills
    with the register's values, and the history): the actions, the transfers, the mails,
    the questions on leaving, the fleet account and the owner's shared details."""
    # Which buttons, and the reason in place of each one not allowed: the service's
    # answer, the same the forms and the services themselves go by.
    refusals = passport_rules.allowed_actions(session, current_actor(), passport)
    can = {action: refusal is None for action, refusal in refusals.items()}
    return {
        "passport": passport,
        "state_badge": state_badge(passport.state),
        "endpoint": endpoint,
        "edit_form": None,
        **profile_actions(refusals, can),
        **profile_transfers(session, passport),
        "mails": owner_mails(session, passport),
        **leave_questions(passport, can),
        **profile_fleet(session, passport, can),
        # The owner's details are one customer record: how many live cars show them.
        "shared_by": passport_rules.shared_by(session, passport) if can["edit"] else 0,
    }


def profile_actions(refusals: dict, can: dict) -> dict:
    """The buttons, and a reason where the role has the action, only not on this passport
    now."""
    return {
        "can": can,
        "reasons": {
            action: refusal.reason
            for action, refusal in refusals.items()
            if refusal is not None and refusal.for_this_passport
        },
        "action_labels": ACTION_LABELS,
    }


def profile_transfers(session, passport: Passport) -> dict:
    """The car's transfers, newest first, with who started each (named as the history
    names its actors), and the one waiting."""
    transfers_ = session.scalars(
        select(Transfer).where(Transfer.passport_id == passport.id).order_by(Transfer.id.desc())
    ).all()
    return {
        "transfers": transfers_,
        "transfer_by": actor_names(session, [(t.created_by_id, t.created_by) for t in transfers_]),
        "pending_transfer": passport_rules.pending_transfer(session, passport),
    }


def owner_mails(session, passport: Passport) -> list[OutboxMessage]:
    """The last 20 mails to the owner's address."""
    return session.scalars(
        select(OutboxMessage)
        .where(func.lower(OutboxMessage.recipient) == passport.owner.email.lower())
        .order_by(OutboxMessage.id.desc())
        .limit(20)
    ).all()


def leave_questions(passport: Passport, can: dict) -> dict:
    """The in-page questions when leaving the profile (R-PP-4, R-TR-1)."""
    unsent = passport.state == PassportState.created.value
    # Asked once, after an e-mail change that did not send again (R-BJ-7).
    ask_resend = (
        passport.state == PassportState.sent.value
        and browser_session.pop(ASK_RESEND, None) == passport.id
    )
    return {
        "ask_send": (unsent or ask_resend) and can["send"],
        "ask_resend": ask_resend and can["send"],
        # The question is about a sold stock car (R-TR-1), not any car one may transfer.
        "ask_transfer": passport.stock_car and passport.state == "activated" and can["transfer"],
    }


def profile_fleet(session, passport: Passport, can: dict) -> dict:
    """Fleet accounts (R-FL-1, R-FL-3): only the garage links, on activated passports."""
    return {
        # A refused link shows the name that was typed, to correct it.
        "fleet_name": request.form.get("fleet_name") if request.method == "POST" else None,
        "fleets": session.scalars(select(FleetAccount).order_by(FleetAccount.name)).all()
        if can["link"]
        else [],
        # A stock car's owner is the garage itself: it manages no customer's fleet.
        "can_make_fleet": can["link"] and not passport.stock_car and not passport.fleet_account_id,
        "manages": session.scalars(
            select(FleetAccount).where(FleetAccount.manager_passport_id == passport.id)
        ).first(),
    }


def passport_history(session, passport: Passport) -> list[AuditLog]:
    """The passport's audit trail, with its owner's and driver's profile changes."""
    customer_ids = [cid for cid in (passport.owner_id, passport.driver_id) if cid]
    return session.scalars(
        select(AuditLog)
        .where(
            or_(
                (AuditLog.table_name == "passport") & (AuditLog.record_id == passport.id),
                (AuditLog.table_name == "customer") & (AuditLog.record_id.in_(customer_ids)),
            )
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(100)
    ).all()


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
