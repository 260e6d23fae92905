"""What every console view shares: read/write permission names and safe defaults."""

from __future__ import annotations

from flask import g
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from admin_app.services.audit import Actor
from admin_app.views.formatting import display_value


# FAB derives one permission per endpoint. We fold them into "read" and "write" so the
# role table (admin_app.roles) stays readable and the HTML view and the REST API of the
# same resource share one permission name.
def current_actor() -> Actor:
    """The logged-in user as the services see him (roles, garage, fleet account)."""
    return Actor.of_user(g.user)


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

    # The search a screen offers per column, instead of FAB's ten generic ones (FAB's
    # ModelView ignores search_filters; only its REST API reads them).
    search_filters: dict | None = None

    def _init_properties(self):
        super()._init_properties()
        for column, filters in (self.search_filters or {}).items():
            chosen = [flt(column, self.datamodel) for flt in filters]
            # What the search form offers, and what a request's _flt_<i>_<column> applies.
            self._filters._search_filters[column] = chosen
            self._filters._all_filters[column] = chosen


class PageInterface(SQLAInterface):
    """A datamodel whose list pages load in two steps: the page's ids from the table alone
    (filters, order and OFFSET on its own indexes), then those rows with their related
    records. Page 100 of a large garage no longer joins every row before it; the number
    of statements stays the same for any page size. ``eager`` names relationships the
    list shows that the model does not load with the row by itself."""

    def __init__(self, obj, session=None, *, eager: tuple[str, ...] = ()):
        super().__init__(obj, session)
        self.eager = eager

    def query(
        self,
        filters=None,
        order_column="",
        order_direction="",
        page=None,
        page_size=None,
        select_columns=None,
        outer_default_load=False,
    ):
        from sqlalchemy.orm import joinedload, selectinload

        query = self.session.query(self.obj)
        count = self.query_count(query, filters, select_columns)
        query = self.apply_all(
            query,
            filters,
            order_column,
            order_direction,
            page,
            page_size,
            select_columns,
            outer_default_load,
        )
        ids = [pk for (pk,) in query.with_entities(self.obj.id)]
        if not ids:
            return count, []
        rows = self.session.query(self.obj).filter(self.obj.id.in_(ids))
        for name in self.eager:
            attribute = getattr(self.obj, name)
            # A collection in one more SELECT for the page; a single object in the join.
            load = selectinload if attribute.property.uselist else joinedload
            rows = rows.options(load(attribute))
        by_id = {row.id: row for row in rows}
        return count, [by_id[pk] for pk in ids if pk in by_id]
