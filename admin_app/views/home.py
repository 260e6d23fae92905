from __future__ import annotations

from urllib.parse import urlencode

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_appbuilder.models.sqla.filters import FilterEqual

from admin_app.extensions import appbuilder, db
from admin_app.models.base import utcnow
from admin_app.roles import ADMIN
from admin_app.scope import EVERYTHING, FLEET, GARAGE, OWNER
from admin_app.services import dashboard, vehicle_values
from admin_app.views.batch_jobs import progress_bar


def filtered_list(view_name: str, column: str, value: str) -> str:
    """The URL of a list screen filtered on ``column`` equal to ``value``.

    FAB names a filter by its position in the column's filter list (``_flt_3_state``),
    which differs per view; looked up here, so a view that changes its filters does not
    silently turn a home page link into an unfiltered list.
    """
    view = next(v for v in appbuilder.baseviews if v.__class__.__name__ == view_name)
    filters = view._filters.get_search_filters()[column]
    position = next(i for i, f in enumerate(filters) if isinstance(f, FilterEqual))
    return f"{url_for(f'{view_name}.list')}?{urlencode({f'_flt_{position}_{column}': value})}"


class HomeView(IndexView):
    """A home page per role, saying what waits for that role, each count a link to the
    list of exactly those rows."""

    index_template = "console/home.html"

    @expose("/")
    def index(self):
        scope = g.get("scope")
        if scope is None or not g.user or not g.user.is_authenticated:
            return redirect(appbuilder.get_url_for_login)
        session = db.session
        role_names = {r.name for r in g.user.roles}
        context = {
            "kind": scope.kind,
            "role_names": role_names,
            "filtered_list": filtered_list,
            "progress_bar": progress_bar,
        }
        if scope.kind == EVERYTHING:
            # Per-state and platform totals read a million rows: the Admin's page only,
            # Support's answers from indexed counts of what went wrong.
            if ADMIN in role_names:
                context["platform"] = dashboard.platform_counts(session)
            context["support"] = dashboard.support_todo(session)
        elif scope.kind == GARAGE:
            context["todo"] = dashboard.garage_todo(session, utcnow())
            context["states"] = dashboard.passport_counts(session)
            context["fleets"] = dashboard.fleet_accounts_with_counts(session)
        elif scope.kind == FLEET:
            return redirect(url_for("FleetDashboardView.list"))
        elif scope.kind == OWNER:
            context["passports"] = dashboard.linked_passports(session)
            # Brand, model and APK expiry as they count (issue 18): one query for all.
            context["car_values"] = vehicle_values.values_of(session, context["passports"])
        self.update_redirect()
        return self.render_template(self.index_template, appbuilder=self.appbuilder, **context)
