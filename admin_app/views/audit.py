from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from admin_app.models import AuditLog, OutboxMessage
from admin_app.views.base import ConsoleModelView


class AuditLogView(ConsoleModelView):
    """Read-only: the log is written by the flush listener and record_bulk only."""

    route_base = "/audit-log"
    class_permission_name = "AuditLog"
    include_route_methods = {"list", "show"}
    datamodel = SQLAInterface(AuditLog)
    list_title = _l("Audit log")
    show_title = _l("Audit entry")
    list_columns = ["at", "actor_name", "action", "table_name", "record_id", "changes_text"]
    show_columns = list_columns + ["garage_id", "passport_id"]
    label_columns = {
        "at": _l("When"),
        "actor_name": _l("Who"),
        "action": _l("Action"),
        "table_name": _l("Record type"),
        "record_id": _l("Record"),
        "changes_text": _l("Changes (old → new)"),
        "garage_id": _l("Garage"),
        "passport_id": _l("Passport"),
    }
    search_columns = ["actor_name", "table_name", "record_id", "action"]
    search_filters = {
        "actor_name": [FilterEqual],
        "table_name": [FilterEqual],
        "record_id": [FilterEqual],
        "action": [FilterEqual],
    }
    base_order = ("id", "desc")


class OutboxView(ConsoleModelView):
    """Mail as the worker sees it. The body holds access links: never shown."""

    route_base = "/outbox"
    class_permission_name = "Outbox"
    include_route_methods = {"list", "show"}
    datamodel = SQLAInterface(OutboxMessage)
    list_title = _l("Outbox")
    show_title = _l("Mail")
    list_columns = [
        "created_at",
        "recipient",
        "kind_label",
        "subject",
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
        "state_label": _l("State"),
        "state": _l("State"),
        "attempts": _l("Attempts"),
        "last_error": _l("Last error"),
        "next_attempt_at": _l("Next attempt"),
        "sent_at": _l("Sent"),
    }
    search_columns = ["recipient", "state", "kind"]
    base_order = ("id", "desc")
