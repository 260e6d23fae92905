from __future__ import annotations

from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from admin_app.extensions import db
from admin_app.models import AuditLog, OutboxMessage
from admin_app.models.outbox import KIND_LABELS, STATE_LABELS
from admin_app.services.audit import describe_entries
from admin_app.services.list_exports import AUDIT_LOG_EXPORT, OUTBOX_EXPORT
from admin_app.views.base import ConsoleModelView
from admin_app.views.exports import ExportableList
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE


class AuditLogInterface(SQLAInterface):
    """The log's rows as sentences (services/audit.describe_entries), a page at a time:
    the names a page mentions cost one query per record type, not one per row."""

    def get_values(self, lst, list_columns):
        for described in describe_entries(self.session, lst, str(get_locale())):
            yield {column: _described_value(described, column) for column in list_columns}

    def get_values_item(self, item, show_columns):
        (described,) = describe_entries(self.session, [item], str(get_locale()))
        return [_described_value(described, column) for column in show_columns]


def _described_value(described, column: str):
    if column == "at":
        return described.entry.at
    if column == "changes":
        return described.changes_text
    return getattr(described, column)


class AuditLogView(ExportableList, ConsoleModelView):
    """Read-only: the log is written by the flush listener and record_bulk only.

    Its screens show each change in words; the change as stored is one click further, on
    the entry's raw page (same permission: Admin and Support)."""

    route_base = "/audit-log"
    class_permission_name = "AuditLog"
    include_route_methods = {"list", "show", "raw", "export"}
    method_permission_name = {**READ_WRITE, "raw": "read"}
    datamodel = AuditLogInterface(AuditLog)
    list_title = _l("Audit log")
    show_title = _l("Audit entry")
    show_template = "console/audit_show.html"
    list_template = "console/list_export.html"
    export_list = AUDIT_LOG_EXPORT
    list_columns = ["at", "who", "what", "subject", "changes"]
    show_columns = ["at", "who", "what", "subject"]
    # The other columns are sentences made per page, not columns a query can sort by.
    order_columns = ["at"]
    label_columns = {
        "at": _l("When"),
        "who": _l("Who"),
        "what": _l("What"),
        "subject": _l("Record"),
        "changes": _l("Changes (old → new)"),
        "actor_name": _l("Who"),
        "action": _l("Action"),
        "table_name": _l("Record type"),
        "record_id": _l("Record"),
    }
    search_columns = ["actor_name", "table_name", "record_id", "action"]
    search_filters = {
        "actor_name": [FilterEqual],
        "table_name": [FilterEqual],
        "record_id": [FilterEqual],
        "action": [FilterEqual],
    }
    base_order = ("id", "desc")

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        (widgets["described"],) = describe_entries(db.session, [item], str(get_locale()))
        return widgets

    @expose("/<int:pk>/raw")
    @has_access
    def raw(self, pk):
        """The entry as stored: record type, id, action and each field's old and new value."""
        entry = scoped_or_404(AuditLog, pk)
        return self.render_template(
            "console/audit_raw.html",
            title=_l("Audit entry as stored"),
            entry=entry,
            changes=sorted((entry.changes or {}).items()),
        )


class OutboxView(ExportableList, ConsoleModelView):
    """Mail as the worker sees it. The body holds access links: never shown."""

    route_base = "/outbox"
    class_permission_name = "Outbox"
    include_route_methods = {"list", "show", "export"}
    datamodel = SQLAInterface(OutboxMessage)
    list_template = "console/list_export.html"
    export_list = OUTBOX_EXPORT
    export_filter_words = {"state": STATE_LABELS, "kind": KIND_LABELS}
    list_title = _l("Outbox")
    show_title = _l("Mail")
    list_columns = [
        "created_at",
        "recipient",
        "kind_label",
        "subject_text",
        "state_label",
        "attempts",
        "last_error",
    ]
    show_columns = list_columns + ["next_attempt_at", "sent_at"]
    label_columns = {
        "created_at": _l("Created"),
        "recipient": _l("Recipient"),
        "kind": _l("Kind"),
        "kind_label": _l("Kind"),
        "subject": _l("Subject"),
        "subject_text": _l("Subject"),
        "state_label": _l("State"),
        "state": _l("State"),
        "attempts": _l("Attempts"),
        "last_error": _l("Last error"),
        "next_attempt_at": _l("Next attempt"),
        "sent_at": _l("Sent"),
    }
    search_columns = ["recipient", "state", "kind"]
    base_order = ("id", "desc")
