"""Permission names the screens (views) and the REST API (api) share: FAB's sync keeps
only what each declares, so both take them from here."""

from __future__ import annotations

# FAB derives one permission per endpoint. We fold them into "read" and "write" so the
# role table (admin_app.roles) stays readable and the HTML view and the REST API of the
# same resource share one permission name.
READ_WRITE = {
    "list": "read",
    "show": "read",
    "api": "read",
    "api_read": "read",
    "api_get": "read",
    "api_readvalues": "read",
    "download": "read",
    "get_list": "read",
    "get": "read",
    "info": "read",
    "action": "write",
    "action_post": "write",
    "add": "write",
    "edit": "write",
    "api_column_add": "write",
    "api_column_edit": "write",
    "api_create": "write",
    "api_update": "write",
    "post": "write",
    "put": "write",
    "delete": "delete",
    "api_delete": "delete",
    # Passport actions, each its own permission (SPEC's roles table differs per action).
    "send": "send",
    "transfer": "transfer",
    "archive": "archive",
    "move": "move",
    "email": "email",
    "new": "write",
    "register_fill": "write",  # the new-passport form's lookup (issue 18)
    "edit_profile": "write",  # the passport profile in place (issue 15)
    "new_fleet_account": "write",
    "fleet": "write",
    "link_fleet": "write",
    "unlink_fleet": "write",
    "settings": "write",
    "confirm": "write",
    "run_now": "run_now",
    "erase": "erase",  # issue 19: Support's erase of a customer or person (R-DR-2)
    "rows": "read",
    "refused_xlsx": "read",
    "upload": "write",
    "invalid_emails": "read",
    "template": "read",
    "cancel": "write",
    # Who may cancel a waiting transfer is the transfer's rule (services.passports
    # .why_not_cancel: Support may, and an owner only his own sale), not a role's
    # permission: whoever reads the passport reaches the button's endpoint.
    "cancel_transfer": "read",
    "allowed_actions": "read",
    # A passport's open recalls over the API (issue 18): whoever may read the passport.
    "passport_recalls": "read",
    # Bulk actions on the passport list (issue 15): each the permission of its single one.
    "bulk_send": "send",
    "bulk_archive": "archive",
    "bulk_link": "write",
    "bulk_unlink": "write",
    "undo": "write",  # what may be done to a passport, and why not (issue 14)
    # Inspection forms (R-IN).
    "save": "write",
    "pdf": "read",
    "performed_work": "write",
    "mail_again": "write",
    "find": "read",
    "version": "read",
    "recalls": "write",
    # Lists to Excel (issue 15): whoever reads a list may take it along.
    "export": "read",
    "rows_export": "read",
    "invoices_export": "read",
}


FULL_PERMISSIONS = (
    "can_read",
    "can_write",
    "can_edit",
    "can_delete",
    "can_send",
    "can_transfer",
    "can_archive",
    "can_move",
    "can_email",
    "can_run_now",
    "can_erase",  # issue 19 (R-DR-2): Support only
)


# The screens and the two APIs share the "DataExport" permissions: each declares them all,
# or FAB's permission sync removes on one what another one uses.
DATA_EXPORT_PERMISSIONS = ["can_read", "can_customer", "can_own"]
