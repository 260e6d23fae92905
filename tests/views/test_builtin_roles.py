"""Issue 13: the built-in roles (admin_app/roles.py) cannot be renamed, deleted or given
other permissions on FAB's role screen or through its role API; custom roles can."""

from __future__ import annotations

import pytest
from flask_appbuilder.security.sqla.models import PermissionView, Role
from sqlalchemy import select, text

from admin_app.roles import ADMIN, ROLE_PERMISSIONS

BUILTIN_ROLES = sorted({ADMIN, *ROLE_PERMISSIONS})  # the roles `flask sync-roles` defines

REFUSAL = "is een ingebouwde rol"
CUSTOM = "Werkplaatschef"


@pytest.fixture()
def roles(app, world):
    """The role rows, put back afterwards: roles outlive the per-test reset (KEEP_TABLES)."""
    session = world.session
    names = {role.id: role.name for role in session.scalars(select(Role))}
    yield Roles(session)
    session.rollback()
    for role in session.scalars(select(Role)).all():
        if role.id not in names:
            role.permissions, role.user = [], []
            session.delete(role)
        else:
            role.name = names[role.id]
    # FAB leaves a deleted role's rows to ON DELETE CASCADE, which SQLite does not apply
    # here (no foreign_keys pragma): a new role reusing the id would inherit them.
    for table in ("ab_permission_view_role", "ab_user_role"):
        session.execute(text(f"DELETE FROM {table} WHERE role_id NOT IN (SELECT id FROM ab_role)"))
    session.commit()
    from admin_app.extensions import appbuilder
    from admin_app.roles import sync_roles

    with app.app_context():
        sync_roles(appbuilder)  # permissions of the built-in roles, as the table says


class Roles:
    def __init__(self, session):
        self.session = session

    def get(self, name: str) -> Role | None:
        self.session.expire_all()  # changed by requests on other sessions
        return self.session.scalar(select(Role).where(Role.name == name))

    def permission_ids(self, name: str) -> set[int]:
        return {p.id for p in self.get(name).permissions}

    def custom(self) -> Role:
        some = self.session.scalars(select(PermissionView).limit(3)).all()
        role = Role(name=CUSTOM, permissions=some)
        self.session.add(role)
        self.session.commit()
        return role


def _builtin(roles):
    return [roles.get(name) for name in BUILTIN_ROLES]


# --- the role screen (/roles/) ---------------------------------------------------------


def test_issue13_builtin_role_rename_refused_screen(login_as, roles):
    admin = login_as("admin")
    for role in _builtin(roles):
        role_id, name, permissions = role.id, role.name, roles.permission_ids(role.name)
        assert admin.get(f"/roles/edit/{role_id}").status_code == 302  # no form to fill in
        response = admin.post(
            f"/roles/edit/{role_id}",
            {"name": f"{name} oud", "permissions": sorted(permissions)},
            follow_redirects=True,
        )
        assert response.status_code == 200 and REFUSAL in response.get_data(as_text=True)
        assert roles.get(name) is not None and roles.get(f"{name} oud") is None


def test_issue13_builtin_role_permission_edit_refused_screen(login_as, roles):
    admin = login_as("admin")
    for role in _builtin(roles):
        role_id, name, permissions = role.id, role.name, roles.permission_ids(role.name)
        response = admin.post(
            f"/roles/edit/{role_id}",
            {"name": name, "permissions": sorted(permissions)[:1]},
            follow_redirects=True,
        )
        assert response.status_code == 200 and REFUSAL in response.get_data(as_text=True)
        assert roles.permission_ids(name) == permissions


def test_issue13_builtin_role_delete_refused_screen(login_as, roles):
    admin = login_as("admin")
    for role in _builtin(roles):
        role_id, name = role.id, role.name
        if name != "Admin":
            role.user = []  # FAB itself refuses a role with users: take that reason away
            roles.session.commit()
        response = admin.post(f"/roles/delete/{role_id}", follow_redirects=True)
        assert response.status_code == 200 and REFUSAL in response.get_data(as_text=True)
        assert roles.get(name) is not None


def test_issue13_builtin_role_action_refused_screen(login_as, roles):
    admin = login_as("admin")
    ids = [role.id for role in _builtin(roles)]
    for role_id in ids:
        response = admin.post(
            "/roles/action_post",
            {"action": "copyrole", "rowid": [role_id]},
            follow_redirects=True,
        )
        assert response.status_code == 200 and REFUSAL in response.get_data(as_text=True)
    assert not [r for r in roles.session.scalars(select(Role)) if r.name.endswith(" copy")]


def test_issue13_custom_role_still_editable_screen(login_as, roles):
    role = roles.custom()
    role_id, permissions = role.id, roles.permission_ids(CUSTOM)
    admin = login_as("admin")
    response = admin.post(
        f"/roles/edit/{role_id}", {"name": "Chef werkplaats", "permissions": sorted(permissions)}
    )
    assert response.status_code == 302
    assert roles.get("Chef werkplaats").id == role_id
    admin.post("/roles/action_post", {"action": "copyrole", "rowid": [role_id]})
    assert roles.get("Chef werkplaats copy") is not None
    admin.post(f"/roles/delete/{role_id}")
    assert roles.get("Chef werkplaats") is None


# --- the role API (/api/v1/security/roles/) ---------------------------------------------


def _refused(response):
    assert response.status_code == 403, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"message", "errors"} and REFUSAL in body["message"]


def test_issue13_builtin_role_rename_refused_api(api_client, roles):
    api = api_client("admin")
    for role in _builtin(roles):
        role_id, name = role.id, role.name
        _refused(api.put(f"/api/v1/security/roles/{role_id}", json={"name": f"{name} oud"}))
        assert roles.get(name) is not None


def test_issue13_builtin_role_delete_refused_api(api_client, roles):
    api = api_client("admin")
    for role in _builtin(roles):
        role_id, name = role.id, role.name
        _refused(api.delete(f"/api/v1/security/roles/{role_id}"))
        assert roles.get(name) is not None


def test_issue13_builtin_role_permission_edit_refused_api(api_client, roles):
    api = api_client("admin")
    one = roles.session.scalar(select(PermissionView.id).limit(1))
    for role in _builtin(roles):
        role_id, name, permissions = role.id, role.name, roles.permission_ids(role.name)
        _refused(
            api.post(
                f"/api/v1/security/roles/{role_id}/permissions",
                json={"permission_view_menu_ids": [one]},
            )
        )
        _refused(api.put(f"/api/v1/security/roles/{role_id}/users", json={"user_ids": []}))
        assert roles.permission_ids(name) == permissions
        assert roles.get(name).user  # its logins keep it
        listing = api.get(f"/api/v1/security/roles/{role_id}/permissions/")
        assert listing.status_code == 200  # reading stays open


def test_issue13_permission_rows_are_read_only_api(api_client, roles):
    """Renaming a view menu or repointing a permission row would change every role's
    permissions at once, the built-in ones included."""
    api = api_client("admin")
    pv = roles.session.scalar(select(PermissionView).limit(1))
    for path, body in (
        (f"/api/v1/security/resources/{pv.view_menu_id}", {"name": "Iets anders"}),
        (f"/api/v1/security/permissions-resources/{pv.id}", {"permission_id": 1}),
    ):
        assert api.put(path, json=body).status_code in (404, 405)
        assert api.delete(path).status_code in (404, 405)
        assert api.get(path).status_code == 200


def test_issue13_custom_role_still_editable_api(api_client, roles):
    role = roles.custom()
    role_id = role.id
    one = roles.session.scalar(select(PermissionView.id).limit(1))
    api = api_client("admin")
    response = api.put(f"/api/v1/security/roles/{role_id}", json={"name": "Chef werkplaats"})
    assert response.status_code == 200, response.get_json()
    response = api.post(
        f"/api/v1/security/roles/{role_id}/permissions", json={"permission_view_menu_ids": [one]}
    )
    assert response.status_code == 200, response.get_json()
    assert roles.permission_ids("Chef werkplaats") == {one}
    assert api.delete(f"/api/v1/security/roles/{role_id}").status_code == 200
    assert roles.get("Chef werkplaats") is None
