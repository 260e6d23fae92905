"""Flask-AppBuilder's security manager, with our user model and hardening."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.api import safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.decorators import permission_name, protect
from flask_appbuilder.security.sqla.apis import (
    PermissionViewMenuApi,
    RoleApi,
    UserApi,
    ViewMenuApi,
)
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import RoleModelView, UserGroupModelView
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user

from admin_app.api import openapi
from admin_app.extensions import db
from admin_app.models import ConsoleUser
from admin_app.roles import role_label, roles_text
from admin_app.services import sessions
from admin_app.services.api_keys import is_service_user
from admin_app.services.roles import check_roles_changeable
from admin_app.web.filters import FilterPeople


def _role_ids(pks) -> list[int]:
    # A pk that is no number names no role: FAB answers it as before.
    return [int(pk) for pk in pks if str(pk).isdecimal()]


def _documented_as(fab_method):
    """Keep FAB's OpenAPI text on an endpoint we override (the spec is read from it)."""

    def document(function):
        function.__doc__ = fab_method.__doc__
        return function

    return document


class ConsoleRoleView(RoleModelView):
    """FAB's role screen. Built-in roles are shown but not changed (issue 13): each
    changing endpoint asks the rule before FAB's code runs (an exception in FAB's
    pre_update/pre_delete hooks would be a 500); the refusal (Forbidden) becomes a flash
    and a redirect (api/errors.py)."""

    exclude_route_methods = {"download"}  # FAB's file download has nothing to serve here
    # FAB labels only these two; its search offers "user" and "groups" by their names.
    label_columns = {
        **RoleModelView.label_columns,
        "user": _l("Logins"),
        "groups": _l("Groups"),
    }

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        check_roles_changeable(db.session, _role_ids([pk]))
        return super().edit(pk)

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    def delete(self, pk):
        check_roles_changeable(db.session, _role_ids([pk]))
        return super().delete(pk)

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        self._check_action(name, [pk])
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        self._check_action(request.form.get("action"), request.form.getlist("rowid"))
        return super().action_post()

    def _check_action(self, name, pks) -> None:
        # Any action (FAB's copy-role today) on a built-in role; a caller who may not run
        # the action at all gets FAB's own refusal, as before.
        allowed = self.appbuilder.sm.has_access(
            self.get_action_permission_name(name), self.class_permission_name
        )
        if allowed:
            check_roles_changeable(db.session, _role_ids(pks))


class ConsoleRoleApi(RoleApi):
    """FAB's role API (/api/v1/security/roles). Built-in roles are read, not changed
    (issue 13): each changing endpoint asks the rule before FAB's @safe body (which would
    turn the refusal into a 500), so it reaches the API error handler: 403 in the
    contract's shape."""

    @expose("/<pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    @_documented_as(RoleApi.put)
    def put(self, pk):
        check_roles_changeable(db.session, _role_ids([pk]))
        return super().put(pk)

    @expose("/<pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    @_documented_as(RoleApi.delete)
    def delete(self, pk):
        check_roles_changeable(db.session, _role_ids([pk]))
        return super().delete(pk)

    @expose("/<int:role_id>/permissions", methods=["POST"])
    @protect()
    @permission_name("add_role_permissions")
    @_documented_as(RoleApi.add_role_permissions)
    def add_role_permissions(self, role_id):
        check_roles_changeable(db.session, [role_id])
        return super().add_role_permissions(role_id)

    @expose("/<int:role_id>/users", methods=["PUT"])
    @protect()
    @permission_name("update_role_users")
    @_documented_as(RoleApi.update_role_users)
    def update_role_users(self, role_id):
        # Replaces every member at once, past the services that tie a login to its garage
        # or fleet: the user screen gives a login its role one at a time.
        check_roles_changeable(db.session, [role_id])
        return super().update_role_users(role_id)

    @expose("/<int:role_id>/groups", methods=["PUT"])
    @protect()
    @permission_name("update_role_groups")
    @_documented_as(RoleApi.update_role_groups)
    def update_role_groups(self, role_id):
        check_roles_changeable(db.session, [role_id])
        return super().update_role_groups(role_id)


class ConsoleSecurityApi(SecurityApi):
    """FAB's login and refresh. The bearer scheme is described as what it is here: a JWT
    or an API key (issue 16); api/openapi.py completes the operations."""

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        # FAB's endpoint names ("SecurityApi.login"), which the limiter and tests know.
        return super().create_blueprint(appbuilder, endpoint or "SecurityApi", static_folder)

    def add_apispec_components(self, api_spec):
        super().add_apispec_components(api_spec)
        schemes = api_spec.components.security_schemes
        # FAB gives "jwt" and "jwt_refresh" one dict: a new one each, or the refresh token
        # read as "a JWT or an API key" in Swagger's Authorize dialog too.
        schemes["jwt"] = {**schemes["jwt"], "description": openapi.BEARER_DESCRIPTION}
        schemes["jwt_refresh"] = {
            **schemes["jwt_refresh"],
            "description": openapi.REFRESH_DESCRIPTION,
        }
        # FAB's own `sst_` keys are not offered (no operation names the scheme); listed,
        # it was the Authorize dialog's first field, and a key typed there went nowhere.
        schemes.pop("api_key", None)


class ConsoleViewMenuApi(ViewMenuApi):
    # Read-only: renaming a view menu ("Passport") would change what every role may do,
    # the built-in ones included; `flask sync-roles` makes and removes them.
    include_route_methods = {"get", "get_list", "info"}


class ConsolePermissionViewMenuApi(PermissionViewMenuApi):
    # Read-only: pointing a permission row at another permission or view would change it
    # for every role that holds it; `flask sync-roles` makes and removes them.
    include_route_methods = {"get", "get_list", "info"}


class ConsoleUserApi(UserApi):
    """FAB's user API on our user model. FAB's works on its base ``User`` class, which the
    listeners that end a login's sessions and write the audit log do not know: a password,
    e-mail or disable set through it ended nothing and was not logged (issue 13)."""

    datamodel = SQLAInterface(ConsoleUser)
    # An API key's login goes with its key (issue 16): not listed, shown or changed here
    # (it could have been given the Admin role or another garage), as on the screens.
    base_filters = [["id", FilterPeople, None]]

    @expose("/<pk>", methods=("PUT",))
    @protect()
    @safe
    @permission_name("put")
    def put(self, pk):
        # FAB's put uses the user it reads without asking whether it found one: an
        # unknown or filtered-out id (an API key's login) was a 500.
        if self.datamodel.get(pk, self._base_filters) is None:
            return self.response_404()
        return UserApi.put.__wrapped__(self, pk)

    put.__doc__ = UserApi.put.__doc__  # FAB's OpenAPI text for it

    @staticmethod
    def response(code, **kwargs):
        # FAB echoes the posted fields, the new password among them.
        result = kwargs.get("result")
        if isinstance(result, dict):
            result.pop("password", None)
        return UserApi.response(code, **kwargs)


class ConsoleGroupView(UserGroupModelView):
    exclude_route_methods = {"download"}
    # FAB labels these columns by their names ("Name", "Users"), untranslated.
    label_columns = {
        "name": _l("Name"),
        "label": _l("Label"),
        "description": _l("Description"),
        "users": _l("Logins"),
        "roles": _l("Roles"),
    }
    formatters_columns = {"roles": roles_text}

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            form.roles.kwargs["get_label"] = role_label


class ConsoleSecurityManager(SecurityManager):
    user_model = ConsoleUser
    rolemodelview = ConsoleRoleView
    groupmodelview = ConsoleGroupView
    security_api = ConsoleSecurityApi
    role_api = ConsoleRoleApi
    user_api = ConsoleUserApi
    view_menu_api = ConsoleViewMenuApi
    permission_view_menu_api = ConsolePermissionViewMenuApi
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None

    def __init__(self, appbuilder):
        from admin_app.views.users import ConsoleUserView

        self.userdbmodelview = ConsoleUserView
        super().__init__(appbuilder)
        # FAB hands the user screen a plain datamodel: one query per row for roles.
        from admin_app.views.users import UserInterface

        ConsoleUserView.datamodel = UserInterface(self.user_model, eager=("roles", "garage"))

    def register_views(self):
        # FAB adds its own key API (/api/v1/security/api_keys: keys of one login, sst_…,
        # revocable by that login only, its person in the audit) when FAB_API_KEY_ENABLED
        # is on at start. The console's keys belong to a garage (views/api_keys): only
        # protect()'s check of the setting, at request time, is wanted.
        keys_enabled = current_app.config["FAB_API_KEY_ENABLED"]
        current_app.config["FAB_API_KEY_ENABLED"] = False
        try:
            super().register_views()
        finally:
            current_app.config["FAB_API_KEY_ENABLED"] = keys_enabled
        # The JWT login's limit: admin_app/limits.py, with the others.
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

    def validate_api_key(self, api_key_string):
        """The service login of the request's garage API key, or None (protect() answers
        401). The scope hook (admin_app/__init__.py) authenticated the key before any view
        ran, so FAB's check and the scope agree on one user."""
        if g.get("api_key_id") and g.get("user") is not None:
            return g.user
        return None

    def auth_user_db(self, username, password):
        """FAB's password check (HTML and API login), refusing an API key's login: it acts
        only through its key."""
        if username:
            user = self.find_user(username=username) or self.find_user(email=username)
            if user is not None and is_service_user(self.session, user.id):
                return None
        return super().auth_user_db(username, password)

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
