"""Flask-AppBuilder's security manager, with our user model and hardening."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager

from admin_app.models import ConsoleUser


class ConsoleSecurityManager(SecurityManager):
    user_model = ConsoleUser

    def __init__(self, appbuilder):
        from admin_app.views.users import ConsoleUserView

        self.userdbmodelview = ConsoleUserView
        super().__init__(appbuilder)

    def register_views(self):
        super().register_views()
        # FAB rate-limits the HTML login only; the JWT login is just as guessable.
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)
        # Password resets go through our single-use mailed link (R-SEC-3).

    @property
    def auth_rate_limit(self) -> str:
        return current_app.config["AUTH_RATE_LIMIT"]
