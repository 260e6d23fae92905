"""Flask-AppBuilder's security manager, with our user model and hardening."""

from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import RoleModelView, UserGroupModelView
from flask_login import current_user, login_user

from admin_app.models import ConsoleUser
from admin_app.services import sessions


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

    def exist_permission_on_roles(self, view_name, permission_name, role_ids) -> bool:
        """FAB asks the database once per menu entry and button (29 queries for a list
        page); the roles' permissions are read once per request instead."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        key = tuple(sorted(role_ids))
        granted = g.setdefault("console_permissions", {})
        if key not in granted:
            from flask_appbuilder.security.sqla.models import assoc_permissionview_role

            granted[key] = set(
                self.session.query(self.viewmenu_model.name, self.permission_model.name)
                .select_from(self.permissionview_model)
                .join(
                    assoc_permissionview_role,
                    self.permissionview_model.id == assoc_permissionview_role.c.permission_view_id,
                )
                .join(self.permission_model)
                .join(self.viewmenu_model)
                .filter(assoc_permissionview_role.c.role_id.in_(key))
            )
        return (view_name, permission_name) in granted[key]

    def load_user(self, pk):
        """The user of a session cookie, while its generation is his (services/sessions)."""
        user_id, _, generation = str(pk).partition(":")
        try:
            user = self.get_user_by_id(int(user_id))
        except ValueError:
            return None
        return user if sessions.is_current(user, generation) else None

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The user of a JWT (access or refresh), while its ``gen`` claim is his."""
        try:
            user = self.get_user_by_id(int(jwt_data["sub"]))
        except (KeyError, TypeError, ValueError):
            return None
        if not sessions.is_current(user, jwt_data.get("gen")):
            return None
        g.user = user  # as FAB does: its before_request cannot know the JWT's user
        return user

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self._jwt_generation)
        return jwt_manager

    def _jwt_generation(self, identity) -> dict:
        # FAB makes every token with identity=str(user.id), the refresh endpoint too;
        # a stale refresh token never gets here (load_user_jwt refused it).
        try:
            user = self.get_user_by_id(int(identity))
        except (TypeError, ValueError):
            return {}
        return {"gen": user.session_generation or 0} if user else {}

    def reset_password(self, userid, password):
        """FAB's "reset my password" and Admin's reset: the user's other sessions end; his
        own, if he changed it himself, goes on under the new generation."""
        super().reset_password(userid, password)
        if current_user.is_authenticated and current_user.id == userid:
            login_user(self.get_user_by_id(userid))

    @property
    def auth_rate_limit(self):
        # A callable, read at each request: the limit follows the app's configuration.
        return lambda: current_app.config["AUTH_RATE_LIMIT"]
