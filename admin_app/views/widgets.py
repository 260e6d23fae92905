"""Widgets of the console's own on top of FAB's."""

from __future__ import annotations

from flask_appbuilder.widgets import ListWidget


class StackedListWidget(ListWidget):
    """FAB's list table, whose rows become cards on a phone (console.css, .table-stacked):
    for a list read on a phone (an owner's cars), where a table scrolled sideways hid the
    dates he looks for behind the screen's edge."""

    template = "console/list_stacked.html"
