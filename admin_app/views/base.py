"""What every console view shares: read/write permission names and safe defaults."""

from __future__ import annotations

from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from admin_app.views.formatting import display_value

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
    "new_fleet_account": "write",
    "fleet": "write",
    "link_fleet": "write",
    "unlink_fleet": "write",
    "settings": "write",
    "confirm": "write",
    "run_now": "run_now",
    "rows": "read",
    "refused_xlsx": "read",
    "upload": "write",
    "invalid_emails": "read",
    "template": "read",
    "cancel": "write",
    # Inspection forms (R-IN).
    "save": "write",
    "pdf": "read",
    "performed_work": "write",
    "mail_again": "write",
    "find": "read",
    "version": "read",
    "recalls": "write",
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
)


class ConsoleModelView(ModelView):
    """A ModelView whose rows are already scoped (admin_app.scope).

    Everything that is not listed explicitly is off: columns, search, and the
    permissions each role gets come from the role table.
    """

    method_permission_name = READ_WRITE
    page_size = 25

    def __init__(self, **kwargs):
        # A view and its REST API share one permission name; FAB's sync would drop the
        # permissions one of them lacks, so both declare the same full set. The role
        # table grants them; include_route_methods decides which endpoints exist.
        self.base_permissions = list(FULL_PERMISSIONS)
        super().__init__(**kwargs)
        shown = set(self.list_columns or []) | set(self.show_columns or [])
        self.formatters_columns = {
            **{column: display_value for column in shown},
            **(self.formatters_columns or {}),
        }


class EagerInterface(SQLAInterface):
    """A datamodel whose list query loads the named relationships with the rows: joined,
    or one extra SELECT per collection for the whole page, instead of a query per row."""

    def __init__(self, obj, session=None, *, eager: tuple[str, ...] = ()):
        super().__init__(obj, session)
        self.eager = eager

    def apply_all(self, query, *args, **kwargs):
        from sqlalchemy.orm import joinedload, selectinload

        query = super().apply_all(query, *args, **kwargs)
        for name in self.eager:
            attribute = getattr(self.obj, name)
            # A collection in one more SELECT for the page; a single object in the join.
            load = selectinload if attribute.property.uselist else joinedload
            query = query.options(load(attribute))
        return query
