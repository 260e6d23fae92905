from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from admin_app.extensions import appbuilder, db
from admin_app.scope import EVERYTHING, FLEET, GARAGE, OWNER
from admin_app.services import dashboard


class HomeView(IndexView):
    """A home page per role, showing what that role works on."""

    index_template = "console/home.html"

    @expose("/")
    def index(self):
        scope = g.get("scope")
        if scope is None or not g.user or not g.user.is_authenticated:
            return redirect(appbuilder.get_url_for_login)
        session = db.session
        context = {"kind": scope.kind, "role_names": {r.name for r in g.user.roles}}
        if scope.kind == EVERYTHING:
            context["platform"] = dashboard.platform_counts(session)
            context["states"] = dashboard.passport_counts(session)
            context["bounced"] = dashboard.bounced_count(session)
        elif scope.kind == GARAGE:
            context["states"] = dashboard.passport_counts(session)
            context["bounced"] = dashboard.bounced_count(session)
            context["fleets"] = dashboard.fleet_accounts_with_counts(session)
        elif scope.kind == FLEET:
            return redirect(url_for("FleetDashboardView.list"))
        elif scope.kind == OWNER:
            context["passports"] = dashboard.linked_passports(session)
        self.update_redirect()
        return self.render_template(self.index_template, appbuilder=self.appbuilder, **context)
