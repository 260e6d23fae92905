"""Roles → permissions, declared once and applied by `flask sync-roles` (idempotent).

Each view and its REST API share a class permission name ("Passport") and fold their
endpoints into read / write / delete (admin_app.views.base.READ_WRITE). What a role may
*see* is further narrowed by the row scope (admin_app.scope); this table says what it may
*do*. Admin gets every permission that exists.
"""

from __future__ import annotations

import logging

from flask_appbuilder import AppBuilder

log = logging.getLogger(__name__)

ADMIN = "Admin"

# FAB's own screens every logged-in user needs: his profile and his password.
_OWN_ACCOUNT = {
    "ConsoleUserView": ["userinfo", "resetmypassword", "userinfoedit"],
    "ResetMyPasswordView": ["this_form_get", "this_form_post"],
    "UserInfoEditView": ["this_form_get", "this_form_post"],
}

ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    "Garage": {
        "Passport": ["read", "write", "send", "transfer", "archive", "email"],
        "Customer": ["read", "write", "edit"],
        "Transfer": ["read", "write"],
        "BatchJob": ["read", "write"],
        "InvalidEmails": ["read"],
        "InspectionForm": ["read", "write"],
        "ContactProposal": ["read", "write"],
        "Invoice": ["read", "write"],
        "FleetAccount": ["read", "write"],
        "MyGarage": ["read", "write"],
        "Colleague": ["read", "write"],
        **_OWN_ACCOUNT,
    },
    # Support reads everything; it writes only what SPEC grants it: e-mail corrections
    # (the services refuse any other field), resends, moving a passport, and — with the
    # batch jobs — running a confirmed job now.
    "Support": {
        "Passport": ["read", "send", "email", "move"],
        "Customer": ["read", "write"],
        # "write" on transfers is their one write, cancel (SPEC: Support cancels a
        # pending transfer; the API refused it while the profile's button allowed it).
        "Transfer": ["read", "write"],
        "BatchJob": ["read", "run_now"],
        "InvalidEmails": ["read"],
        "InspectionForm": ["read"],
        "ContactProposal": ["read"],
        "Invoice": ["read"],
        "FleetAccount": ["read"],
        "Garage": ["read"],
        "AuditLog": ["read"],
        "Outbox": ["read"],
        **_OWN_ACCOUNT,
    },
    "FleetManager": {
        "FleetDashboard": ["read", "transfer"],
        "Passport": ["read", "transfer"],
        "Transfer": ["read", "write"],
        "FleetAccount": ["read"],
        **_OWN_ACCOUNT,
    },
    "Owner": {
        "MyVehicles": ["read", "transfer"],
        "Transfer": ["read", "write"],
        **_OWN_ACCOUNT,
    },
}

ROLE_MENUS: dict[str, list[str]] = {
    "Garage": [
        "Passports",
        "New passport",
        "Customers",
        "Customer lists",
        "Batch jobs",
        "Upload list",
        "Invalid e-mails",
        "Inspection forms",
        "Inspections",
        "All inspection forms",
        "Contacts",
        "Proposals",
        "Conversion",
        "Upload invoices",
        "Fleet accounts",
        "My garage",
        "Garage settings",
        "Garage logo",
        "Colleagues",
        "New colleague",
    ],
    "Support": [
        "Passports",
        "Customer lists",
        "Batch jobs",
        "Invalid e-mails",
        "Inspection forms",
        "Inspections",
        "All inspection forms",
        "Contacts",
        "Proposals",
        "Conversion",
        "Customers",
        "Fleet accounts",
        "Platform",
        "Garages",
        "Audit log",
        "Outbox",
    ],
    "FleetManager": ["My fleet"],
    "Owner": ["My vehicles"],
}


# The roles this table defines. The code names them (scope, services, demo logins): a
# renamed or re-permissioned built-in role breaks every login that holds it, so FAB's
# role screens and API leave them alone (services/roles.py); only sync-roles sets them.
BUILTIN_ROLES = frozenset({ADMIN, *ROLE_PERMISSIONS})


class UnknownPermission(LookupError):
    pass


def sync_roles(appbuilder: AppBuilder) -> dict[str, int]:
    """Create every view's permissions, then set each role's to exactly the table's.

    Returns the number of permissions per role. Raises UnknownPermission when the table
    names a permission no view has (a typo must not silently grant nothing).
    """
    sm = appbuilder.sm
    session = sm.session
    # FAB hands every new permission to Admin as it creates it: the role must exist first.
    admin = sm.find_role(ADMIN) or sm.add_role(ADMIN)
    appbuilder.add_permissions(update_perms=True)
    sm.security_cleanup(appbuilder.baseviews, appbuilder.menu)

    result = {}
    admin.permissions = session.query(sm.permissionview_model).all()
    result[ADMIN] = len(admin.permissions)

    for role_name, grants in ROLE_PERMISSIONS.items():
        role = sm.find_role(role_name) or sm.add_role(role_name)
        wanted = []
        for view_name, perms in grants.items():
            for perm in perms:
                wanted.append(_find(sm, f"can_{perm}", view_name))
        for menu in ROLE_MENUS.get(role_name, []):
            wanted.append(_find(sm, "menu_access", menu))
        role.permissions = wanted
        result[role_name] = len(wanted)
    session.commit()
    return result


def _find(sm, permission: str, view: str):
    # FAB names endpoint permissions "can_<name>" and action permissions bare "<name>".
    pv = sm.find_permission_view_menu(permission, view) or sm.find_permission_view_menu(
        permission.removeprefix("can_"), view
    )
    if pv is None:
        raise UnknownPermission(f"no permission {permission} on {view}")
    return pv
