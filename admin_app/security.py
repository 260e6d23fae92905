"""Flask-AppBuilder's security manager, with our user model and hardening."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import RoleModelView, UserGroupModelView

from admin_app.models import ConsoleUser


class ConsoleRoleView(RoleModelView):
    exclude_route_methods = {"download"}  # FAB's file download has nothing to serve here


class ConsoleGroupView(UserGroupModelView):
    exclude_route_methods = {"download"}


class ConsoleSecurityManager(SecurityManager):
    user_model = ConsoleUser
    rolemodelview = ConsoleRoleView
    groupmodelview = ConsoleGroupView
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None

    def __init__(self, appbuilder):
        from admin_app.views.users import ConsoleUserView

        self.userdbmodelview = ConsoleUserView
        super().__init__(appbuilder)
        # FAB hands the user screen a plain datamodel: one query per row for roles.
        from admin_app.views.base import PageInterface

        ConsoleUserView.datamodel = PageInterface(self.user_model, eager=("roles", "garage"))

    def register_views(self):
        super().register_views()
        # FAB rate-limits the HTML login only; the JWT login is just as guessable.
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)
        # Password resets go through our single-use mailed link (R-SEC-3).

    @property
    def auth_rate_limit(self):
        # A callable, read at each request: the limit follows the app's configuration.
        return lambda: current_app.config["AUTH_RATE_LIMIT"]
