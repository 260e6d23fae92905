"""A FAB list page's query for this request, without its page: what the screen's export
streams (views/exports) and what the worker's export file rebuilds (jobs/exports), in one
place below both."""

from __future__ import annotations

from flask import abort, request
from flask_appbuilder.urltools import get_filter_args, get_order_args


def screen_query(view):
    """The query of the view's list page for this request — its search filters, base
    filters and order, as FAB's ``_list`` applies them — without a page; and the
    request's filters (for their description)."""
    filters = view._filters.copy()
    # copy() keeps the active filters only; the lookups by column are the view's.
    filters._search_filters = view._filters._search_filters
    filters._all_filters = view._filters._all_filters
    get_filter_args(filters)
    order_column, order_direction = get_order_args().get(type(view).__name__, ("", ""))
    if not order_column and view.base_order:
        order_column, order_direction = view.base_order
    joined = filters.get_joined_filters(view._base_filters)
    datamodel = view.datamodel
    query = datamodel.apply_all(
        datamodel.session.query(datamodel.obj), joined, order_column, order_direction
    )
    checked = checked_ids()
    if checked is not None:
        query = query.filter(datamodel.obj.id.in_(checked))
    return query, filters


# The rows a user can tick are one page's (at most 100); a longer list is not a selection.
MAX_CHECKED = 1_000


def checked_ids() -> list[int] | None:
    """The rows ticked on the list (``id`` arguments, as the bulk bar sends them), or None
    for the whole list: nothing ticked, or "all that match the filter" chosen."""
    if request.args.get("all") == "1":
        return None
    values = request.args.getlist("id")
    if not values:
        return None
    if len(values) > MAX_CHECKED or not all(v.isdecimal() and len(v) <= 10 for v in values):
        abort(400)
    return [int(v) for v in values]
