"""Roles → permissions, declared once and applied by `flask sync-roles` (idempotent).

Each view and its REST API share a class permission name ("Passport") and fold their
endpoints into read / write / delete (admin_app.web.permissions.READ_WRITE). What a role may
*see* is further narrowed by the row scope (admin_app.scope); this table says what it may
*do*. Admin gets every permission that exists.
"""

from __future__ import annotations

import logging

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

# The built-in roles' names: the key FAB, the scope (admin_app.scope) and the services'
# checks (`actor.has(GARAGE)`) match on. Named here once: a typo in a string literal
# would silently grant or refuse, a typo in a constant fails at import.
ADMIN = "Admin"
GARAGE = "Garage"
SUPPORT = "Support"
FLEET_MANAGER = "FleetManager"
OWNER = "Owner"

# A role as a person reads it: the role's name is the key FAB and the scope match on.
ROLE_LABELS = {
    ADMIN: _l("Administrator"),
    GARAGE: _l("Garage"),
    FLEET_MANAGER: _l("Fleet manager"),
    SUPPORT: _l("Support desk"),
    OWNER: _l("Car owner"),
}


def role_label(role) -> str:
    """A role (or its name) in the reader's language; a role Admin made keeps its name."""
    name = getattr(role, "name", role)
    return str(ROLE_LABELS.get(name, name))


def roles_text(roles) -> str:
    return ", ".join(role_label(role) for role in roles or ())


# FAB's own screens every logged-in user needs: his profile and his password.
_OWN_ACCOUNT = {
    "ConsoleUserView": ["userinfo", "resetmypassword", "userinfoedit"],
    "ResetMyPasswordView": ["this_form_get", "this_form_post"],
    "UserInfoEditView": ["this_form_get", "this_form_post"],
    # His own exports that a worker built (issue 15): whoever may export a list.
    "ExportFile": ["read"],
}

# The API's OpenAPI document and its Swagger UI (issue 16): whoever integrates a
# management system or helps one. FleetManager and Owner have no API of their own.
_INTEGRATOR = {
    "OpenApi": ["get"],
    "SwaggerView": ["show"],
}

ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    GARAGE: {
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
        "Task": ["read", "write"],
        # Its management system's API keys (issue 16); Admin has every permission.
        "GarageApiKey": ["read", "write"],
        # Its signed webhooks (issue 16): endpoints, secrets, delivery logs.
        "Webhook": ["read", "write"],
        # Its customer's data export (issue 19, R-DR-1): asked, followed, downloaded.
        "DataExport": ["read", "customer"],
        **_INTEGRATOR,
        **_OWN_ACCOUNT,
    },
    # Support reads everything; it writes only what SPEC grants it: e-mail corrections
    # (the services refuse any other field), resends, moving a passport, and — with the
    # batch jobs — running a confirmed job now.
    SUPPORT: {
        "Passport": ["read", "send", "email", "move"],
        "Customer": ["read", "write", "erase"],  # erase: issue 19 (R-DR-2)
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
        "Task": ["read"],
        "DataExport": ["read", "customer"],  # any customer's, or the person's (R-DR-1)
        **_INTEGRATOR,
        **_OWN_ACCOUNT,
    },
    FLEET_MANAGER: {
        "FleetDashboard": ["read", "transfer"],
        "Passport": ["read", "transfer"],
        "Transfer": ["read", "write"],
        "FleetAccount": ["read"],
        # His calendar address (issue 18): made, renewed, stopped on his dashboard.
        "CalendarFeed": ["write"],
        **_OWN_ACCOUNT,
    },
    OWNER: {
        "MyVehicles": ["read", "transfer"],
        "Transfer": ["read", "write"],
        "CalendarFeed": ["write"],  # issue 18, on "Mijn voertuigen"
        "DataExport": ["read", "own"],  # his own data (issue 19), on "Mijn voertuigen"
        **_OWN_ACCOUNT,
    },
}

ROLE_MENUS: dict[str, list[str]] = {
    GARAGE: [
        "Passports",
        "New passport",
        "Customers",
        "Customer lists",
        "Batch jobs",
        "Upload list",
        "Tasks",
        "Invalid e-mails",
        "Inspection forms",
        "Inspections",
        "All inspection forms",
        "Contacts",
        "Proposals",
        "Open recalls",  # issue 18, under Contacts
        "Conversion",
        "Upload invoices",
        "Fleet accounts",
        "My garage",
        "Garage settings",
        "Garage logo",
        "Webhooks",
        "Colleagues",
        "New colleague",
        "API keys",
    ],
    SUPPORT: [
        "Passports",
        "Customer lists",
        "Batch jobs",
        "Tasks",
        "Invalid e-mails",
        "Inspection forms",
        "Inspections",
        "All inspection forms",
        "Contacts",
        "Proposals",
        "Open recalls",  # issue 18, under Contacts
        "Conversion",
        "Customers",
        "Fleet accounts",
        "Platform",
        "Garages",
        "Audit log",
        "Mail outbox",
    ],
    FLEET_MANAGER: ["My fleet"],
    OWNER: ["My vehicles"],
}


# Menu entries of one tenant's own pages, and of pages that act for one garage (a new
# passport, a colleague, an uploaded list): Admin belongs to no garage, fleet or car, so
# they opened a 404 ("My garage") or listed every tenant's rows as his own ("My
# vehicles", "My fleet"). He keeps the permissions; only the menu leaves them out.
NOT_IN_ADMIN_MENU = frozenset(
    {
        "New passport",
        "My vehicles",
        "My fleet",
        "Upload list",
        "Upload invoices",
        "My garage",
        "Garage settings",
        "Garage logo",
        "Webhooks",
        "Colleagues",
        "New colleague",
        "API keys",  # Admin has "All API keys" under Platform
    }
)


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
    # This table sets the built-in roles' permissions whole, below. Letting go of the old
    # ones first lets FAB drop a permission a view no longer has: it refuses (and warns on
    # every start) while a role holds it.
    for role_name in BUILTIN_ROLES:
        role = sm.find_role(role_name)
        if role is not None:
            role.permissions = []
    session.commit()
    appbuilder.add_permissions(update_perms=True)
    _drop_unused_view_menus(sm, appbuilder)

    result = {}
    admin.permissions = [
        permission_view
        for permission_view in session.query(sm.permissionview_model)
        if not (
            permission_view.permission.name == "menu_access"
            and permission_view.view_menu.name in NOT_IN_ADMIN_MENU
        )
    ]
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


def _drop_unused_view_menus(sm, appbuilder: AppBuilder) -> None:
    """Delete the permissions of views and menus that are gone.

    FAB's security_cleanup does this and then runs security_converge, which moves every
    view's permissions over from its class name (FAB takes that as the "previous" name of
    any view with a class_permission_name): names that never existed here, so each start
    logged ~85 "Refused to delete, view menu … does not exist" warnings. Nothing was ever
    renamed, so only the cleanup is done.
    """
    in_use = {view.class_permission_name for view in appbuilder.baseviews}
    for view_menu in sm.get_all_view_menu():
        if view_menu.name in in_use or appbuilder.menu.find(view_menu.name):
            continue
        for permission_view in sm.find_permissions_view_menu(view_menu):
            for role in sm.get_all_roles():
                sm.del_permission_role(role, permission_view)
            sm.del_permission_view_menu(permission_view.permission.name, view_menu.name)
        sm.del_view_menu(view_menu.name)


def _find(sm, permission: str, view: str):
    # FAB names endpoint permissions "can_<name>" and action permissions bare "<name>".
    pv = sm.find_permission_view_menu(permission, view) or sm.find_permission_view_menu(
        permission.removeprefix("can_"), view
    )
    if pv is None:
        raise UnknownPermission(f"no permission {permission} on {view}")
    return pv
