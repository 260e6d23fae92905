from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin_app.domain.clock import local_today
from admin_app.extensions import db
from admin_app.models import FleetAccount, Passport
from admin_app.models.base import utcnow
from admin_app.services import (
    apk_reminders,
    exports,
    fleets,
    inspections,
    list_exports,
    recalls,
    vehicle_values,
)
from admin_app.services.labels import FLEET_ACCOUNT_LABELS
from admin_app.services.units import kilometres
from admin_app.views.base import ConsoleModelView
from admin_app.views.calendar_feeds import calendar_panel
from admin_app.views.exports import NO_FILTER, export_response
from admin_app.views.forms import ConfirmForm, FleetAccountForm, attempt, submitted
from admin_app.views.inspections import read_only_form, result_summary
from admin_app.views.passport_forms import cancel_transfer_of, transfer_page
from admin_app.views.passports import PassportView, state_badge
from admin_app.views.register_values import show_register_values
from admin_app.web.actor import current_actor
from admin_app.web.permissions import READ_WRITE

# The dashboard's filters, sort orders and date marks in the reader's words (R-FL-5).
DASHBOARD_SHOWS = {
    "all": _l("All cars"),
    fleets.OVERDUE: _l("Overdue"),
    fleets.DUE_SOON: _l("Within 30 days"),
    "advice": _l("Open advice"),
    "recall": _l("Open recall"),
}
DASHBOARD_SORTS = {
    "plate": _l("Plate"),
    "apk_expiry": _l("APK expiry"),
    "next_service": _l("Next service"),
    "advice": _l("Open advice"),
    "recall": _l("Open recall"),
}


def dashboard_filter_words(show: str, sort: str) -> str:
    """The dashboard's filter and order as the audit log says an export's filter."""
    show = show if show in DASHBOARD_SHOWS else "all"
    sort = sort if sort in DASHBOARD_SORTS else "plate"
    if (show, sort) == ("all", "plate"):
        return str(NO_FILTER)
    return f"{_l('Show')}: {DASHBOARD_SHOWS[show]}; {_l('Sort by')}: {DASHBOARD_SORTS[sort]}"


# Said in words too, not by colour alone: red for passed, amber for the coming 30 days.
DUE_MARKS = {
    fleets.OVERDUE: ("label-danger", _l("overdue")),
    fleets.DUE_SOON: ("label-warning", _l("within 30 days")),
}


def page_number(raw) -> int:
    """The 1-based ?page= as a 0-based index; anything else is the first page."""
    try:
        return max(int(raw) - 1, 0) if raw and len(raw) < 7 else 0
    except ValueError:
        return 0


class FleetAccountInterface(SQLAInterface):
    """Counts the linked cars of a whole list page in one grouped query."""

    def query(self, *args, **kwargs):
        from sqlalchemy import func

        count, accounts = super().query(*args, **kwargs)
        linked = (
            dict(
                self.session.execute(
                    select(Passport.fleet_account_id, func.count())
                    .where(Passport.fleet_account_id.in_([a.id for a in accounts]))
                    .group_by(Passport.fleet_account_id)
                ).all()
            )
            if accounts
            else {}
        )
        for account in accounts:
            account._linked_count = linked.get(account.id, 0)
        return count, accounts


class FleetAccountView(ConsoleModelView):
    """The garage's fleet accounts (R-FL-4): per account its linked plates."""

    route_base = "/fleet-accounts"
    class_permission_name = "FleetAccount"
    method_permission_name = {**READ_WRITE, "settings": "write"}
    include_route_methods = {"list", "show", "action", "action_post", "settings"}
    datamodel = FleetAccountInterface(FleetAccount)
    list_title = _l("Fleet accounts")
    show_title = _l("Fleet account")
    show_template = "console/fleet_show.html"
    list_columns = ["name", "email", "linked_count", "garage"]
    show_columns = ["name", "email", "manager_passport", "linked_count", "garage", "created_at"]
    label_columns = {**FLEET_ACCOUNT_LABELS}
    search_columns = ["name", "email"]
    base_order = ("name", "asc")

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["linked"] = (
            db.session.scalars(
                select(Passport)
                .where(Passport.fleet_account_id == item.id)
                .order_by(Passport.plate)
            )
            .unique()
            .all()
        )
        widgets["state_badge"] = state_badge
        # Brand, model and APK expiry as they count (issue 18): one query for the list.
        widgets["car_values"] = vehicle_values.values_of(db.session, widgets["linked"])
        return widgets

    @expose("/<int:pk>/settings", methods=["GET", "POST"])
    @has_access
    def settings(self, pk):
        """R-FL-2: rename, or move the account to the fleet manager's own address."""
        fleet = fleets.get_fleet(db.session, pk)
        form = FleetAccountForm(obj=fleet)

        def save():
            actor = current_actor()
            fleets.rename_fleet(db.session, pk, form.name.data, actor=actor)
            fleets.change_fleet_email(db.session, pk, form.email.data, actor=actor)

        answer = submitted(
            form,
            save,
            done=_l("The fleet account is saved."),
            next_url=url_for(f"{self.endpoint}.show", pk=pk),
        )
        return answer or self.render_template(
            "console/form.html",
            form=form,
            fields=("name", "email"),
            title=_l("Fleet account %(name)s", name=fleet.name),
        )


class FleetDashboardView(ConsoleModelView):
    """ "Mijn AutoPaspoorten" (R-FL-5): the fleet manager's linked cars and their actions.

    The row scope leaves him exactly the passports linked to his fleet account.
    """

    route_base = "/my-fleet"
    class_permission_name = "FleetDashboard"
    method_permission_name = {
        **READ_WRITE,
        "driver": "transfer",
        "transfer": "transfer",
        # The fleet manager's own actions share one permission: a driver, a transfer, and
        # his weekly APK overview on or off.
        "apk_overview": "transfer",
        "inspection": "read",
    }
    include_route_methods = {
        "list",
        "show",
        "driver",
        "transfer",
        "cancel_transfer",
        "inspection",
        "export",
        "apk_overview",
    }
    datamodel = SQLAInterface(Passport)
    list_title = _l("My AutoPassports")
    show_title = _l("Vehicle")
    show_template = "console/fleet_vehicle_show.html"
    list_columns = [
        "plate_label",
        "brand",
        "model",
        "driver",
        "apk_expiry",
        "next_service",
        "state",
    ]
    show_columns = [
        "plate_label",
        "brand",
        "model",
        "fuel",
        "driver",
        "apk_expiry",
        "next_service",
        "mobility_renewal",
        "odometer",
        "state_label",
    ]
    label_columns = {**PassportView.label_columns, "driver": _l("Driver")}
    formatters_columns = {"state": state_badge, "odometer": kilometres}
    search_columns = ["plate"]
    base_order = ("plate", "asc")
    page_size = 100

    @expose("/list/")
    @has_access
    def list(self):
        # One table with an action menu per car, not FAB's generic list: marks, advice and
        # recalls per car, filtered and sorted by them (R-FL-5), 50 cars a page.
        dashboard = self._dashboard(page=page_number(request.args.get("page")))
        self.update_redirect()
        return self.render_template(
            "console/fleet_dashboard.html",
            dashboard=dashboard,
            shows=DASHBOARD_SHOWS,
            sorts=DASHBOARD_SORTS,
            marks=DUE_MARKS,
            state_badge=state_badge,
            calendar=calendar_panel(),  # issue 18: his calendar address
            digest=self._digest_panel(),
        )

    @staticmethod
    def _digest_panel() -> dict | None:
        """His weekly APK overview's switch; None for a login without a fleet account of
        its own (Admin opening the page)."""
        fleet = db.session.get(FleetAccount, current_actor().fleet_account_id or 0)
        return None if fleet is None else {"stopped_at": fleet.apk_digest_stopped_at}

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        show_register_values(db.session, widgets["show"], item, marked=False)
        widgets["forms"] = inspections.fleet_car_forms(db.session, pk)
        widgets["result_summary"] = result_summary
        widgets["open_recalls"] = recalls.open_recalls_of(db.session, item.plate)
        return widgets

    @expose("/<int:pk>/inspections/<int:form_id>")
    @has_access
    def inspection(self, pk, form_id):
        """One inspection form of a car in the fleet, read-only (R-FL-5)."""
        return read_only_form(
            self,
            inspections.fleet_car_forms(db.session, pk),
            form_id,
            back=url_for(f"{self.endpoint}.show", pk=pk),
        )

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt):
        """The cars of the dashboard as filtered and sorted on the screen, every page of
        it, as CSV or Excel (issue 15)."""
        if fmt not in exports.FORMATS:
            abort(404)
        dashboard = self._dashboard(page=0, page_size=fleets.MAX_FLEET_EXPORT)
        return export_response(
            self,
            list_exports.FLEET_EXPORT,
            dashboard.rows,
            fmt,
            filter_text=dashboard_filter_words(dashboard.show, dashboard.sort),
        )

    def _dashboard(self, *, page: int, page_size: int = fleets.PAGE_SIZE):
        """The dashboard as the request's show= and sort= ask for it."""
        return fleets.fleet_dashboard(
            db.session,
            current_actor().fleet_account_id,
            today=local_today(),
            show=request.args.get("show", ""),
            sort=request.args.get("sort", ""),
            page=page,
            page_size=page_size,
        )

    @expose("/<int:pk>/driver", methods=["GET", "POST"])
    @has_access
    def driver(self, pk):
        """Another driver; the car stays in the fleet."""
        return transfer_page(self, pk, kind="driver")

    @expose("/<int:pk>/transfer", methods=["GET", "POST"])
    @has_access
    def transfer(self, pk):
        """To a new owner; it leaves the fleet once he accepts (R-FL-6)."""
        return transfer_page(self, pk)

    @expose("/apk-overview", methods=["POST"])
    @has_access
    def apk_overview(self):
        """The weekly APK overview by mail, on or off (issue 18)."""
        if not ConfirmForm().validate_on_submit():
            abort(400)
        on = request.form.get("on") == "1"
        back = url_for(f"{self.endpoint}.list")
        # A refusal (a login without a fleet account) is flashed on the dashboard too.
        return attempt(
            lambda: apk_reminders.fleet_digest_on(db.session, current_actor(), on=on, now=utcnow()),
            done=_l("The weekly APK overview is on again.")
            if on
            else _l("The weekly APK overview is off."),
            next_url=back,
        ) or redirect(back)

    @expose("/<int:pk>/cancel-transfer", methods=["POST"])
    @has_access
    def cancel_transfer(self, pk):
        """Take back a transfer out of the fleet while it waits for the new owner."""
        return cancel_transfer_of(self, pk, back=url_for(f"{self.endpoint}.list"))
