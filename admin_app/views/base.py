"""What every console view shares: read/write permission names and safe defaults."""

from __future__ import annotations

import re

from flask import redirect, request
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from admin_app.services.vehicle_values import OrderedAsCounted
from admin_app.views.formatting import DELETED, SAVED, display_value
from admin_app.views.forms import MAX_ID
from admin_app.web.permissions import FULL_PERMISSIONS, READ_WRITE

# A screen's page is at most as long as the API's (ConsoleApi.max_page_size): a page size
# of 100,000 on the passport list made a 104 MB page in 47.6 s (issue 13).
MAX_PAGE_SIZE = 100
# Beyond any list's last page (an empty page), and within a 64-bit OFFSET.
MAX_PAGE = 1_000_000
# FAB finds these anywhere in an argument's name (re.findall), so do we.
PAGE_ARG, PSIZE_ARG = re.compile("page_(.*)"), re.compile("psize_(.*)")
ORDER_ARG, FILTER_ARG = re.compile("_oc_(.*)"), re.compile(r"_flt_(\d)_(.*)")


class ConsoleModelView(ModelView):
    """A ModelView whose rows are already scoped (admin_app.scope).

    Everything that is not listed explicitly is off: columns, search, and the
    permissions each role gets come from the role table.
    """

    method_permission_name = READ_WRITE
    page_size = 25
    # FAB's own flashes read like a database ("Rij gewijzigd"): say it as the console does.
    add_row_message = SAVED
    edit_row_message = SAVED
    delete_row_message = DELETED

    def __init__(self, **kwargs):
        # A view and its REST API share one permission name; FAB's sync would drop the
        # permissions one of them lacks, so both declare the same full set. The role
        # table grants them; include_route_methods decides which endpoints exist.
        self.base_permissions = list(FULL_PERMISSIONS)
        super().__init__(**kwargs)
        # FAB offers a plain Python property as a sort column too (Customer.full_name,
        # BatchJob.progress): the database cannot sort by it, and its heading's link was a 500.
        self.order_columns = [
            column
            for column in self.order_columns or []
            if not isinstance(getattr(self.datamodel.obj, column, None), property)
        ]
        shown = set(self.list_columns or []) | set(self.show_columns or [])
        self.formatters_columns = {
            **{column: display_value for column in shown},
            **(self.formatters_columns or {}),
        }

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        blueprint = super().create_blueprint(appbuilder, endpoint, static_folder)
        blueprint.before_request(self.bound_list_args)
        return blueprint

    def bound_list_args(self):
        """FAB reads page_<View>, psize_<View>, _oc_<View> and _flt_<i>_<column> with int()
        and unchecked lookups (text, a negative page, an unknown column or filter number
        were 500s) and takes any page size. Before any handler of this view sees them:
        a page size over MAX_PAGE_SIZE becomes MAX_PAGE_SIZE, and an argument FAB cannot
        use is dropped, by a redirect to the address without it (issue 13)."""
        args = request.args.to_dict(flat=False)
        cleaned = {}
        for key, values in args.items():
            kept = [v for v in (self._list_arg(key, v) for v in values) if v is not None]
            if kept:
                cleaned[key] = kept
        if cleaned == args:
            return None
        return redirect(request.path + "?" + _query(cleaned) if cleaned else request.path)

    def _list_arg(self, key: str, value: str) -> str | None:
        """The value FAB may use for this query argument, or None to drop it. One key can
        match more than one of FAB's patterns (it searches anywhere in the name): each
        check sees the value the one before it kept."""
        for check in (_page_arg, _page_size_arg, self._order_arg, self._filter_arg):
            value = check(key, value)
            if value is None:
                return None
        return value

    def _order_arg(self, key: str, value: str) -> str | None:
        """A sort by a column this view offers to sort by."""
        order = ORDER_ARG.search(key)
        if order and order[1] == type(self).__name__ and value not in (self.order_columns or []):
            return None
        return value

    def _filter_arg(self, key: str, value: str) -> str | None:
        """A filter number that exists for the column, on an integer column a number the
        column can hold."""
        flt = FILTER_ARG.search(key)
        if not flt:
            return value
        # The add and edit forms look filters up among all columns, the list among
        # the searched ones: the number must exist in whichever FAB uses.
        filters = self._filters._all_filters.get(flt[2])
        if filters is not None and int(flt[1]) >= len(filters):
            return None
        # A number no 32-bit column holds overflowed the database driver (a 500).
        if self.datamodel.is_integer(flt[2]) and _beyond_any_id(value):
            return None
        return value

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


def _page_arg(key: str, value: str) -> str | None:
    """A page number from 0 to MAX_PAGE."""
    if PAGE_ARG.search(key) and not (value.isdecimal() and int(value) <= MAX_PAGE):
        return None
    return value


def _page_size_arg(key: str, value: str) -> str | None:
    """A page size of at least 1, at most MAX_PAGE_SIZE (a larger one is cut to it)."""
    if not PSIZE_ARG.search(key):
        return value
    if not value.isdecimal() or int(value) == 0:
        return None
    return str(min(int(value), MAX_PAGE_SIZE))


def _beyond_any_id(value: str) -> bool:
    digits = value.strip().lstrip("+-")
    return digits.isdecimal() and (len(digits) > 10 or int(digits) > MAX_ID)


def _query(args: dict[str, list[str]]) -> str:
    from urllib.parse import urlencode

    return urlencode([(key, value) for key, values in args.items() for value in values])


class PageInterface(OrderedAsCounted, SQLAInterface):
    """A datamodel whose list pages load in two steps: the page's ids from the table alone
    (filters, order and OFFSET on its own indexes), then those rows with their related
    records. Page 100 of a large garage no longer joins every row before it; the number
    of statements stays the same for any page size. ``eager`` names relationships the
    list shows that the model does not load with the row by itself. A list of passports
    sorts by brand, model and APK expiry as they count (issue 18)."""

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
