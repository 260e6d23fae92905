"""The whole menu in one function (DESIGN convention 1)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l


def register_views(appbuilder) -> None:
    from admin_app.limits import apply_limits
    from admin_app.views.accounts import PasswordResetView
    from admin_app.views.activation import ActivationView
    from admin_app.views.api_keys import ApiKeyView
    from admin_app.views.audit import AuditLogView, OutboxView
    from admin_app.views.batch_jobs import BatchJobView, InvalidEmailsView
    from admin_app.views.calendar_feeds import CalendarFeedView
    from admin_app.views.customers import CustomerView
    from admin_app.views.data_exports import DataExportView
    from admin_app.views.exports import ExportFileView
    from admin_app.views.fleets import FleetAccountView, FleetDashboardView
    from admin_app.views.garages import GarageView, MyGarageView
    from admin_app.views.health import HealthView
    from admin_app.views.inspections import InspectionView, PublicInspectionView
    from admin_app.views.my_vehicles import MyVehiclesView
    from admin_app.views.passports import PassportView
    from admin_app.views.proposals import OptOutView, ProposalView
    from admin_app.views.recalls import RecallListView
    from admin_app.views.register import RegisterView, allow_large_register_files
    from admin_app.views.tasks import TaskView
    from admin_app.views.users import ColleagueView
    from admin_app.views.webhooks import WebhookView

    appbuilder.add_view(PassportView, "Passports", label=_l("Passports"), icon="fa-car")
    appbuilder.add_link(
        "New passport", label=_l("New passport"), href="/passports/new", icon="fa-plus"
    )
    appbuilder.add_view(MyVehiclesView, "My vehicles", label=_l("My vehicles"), icon="fa-car")
    appbuilder.add_view(
        FleetDashboardView, "My fleet", label=_l("My AutoPassports"), icon="fa-truck"
    )
    appbuilder.add_view(CustomerView, "Customers", label=_l("Customers"), icon="fa-users")
    appbuilder.add_view(
        BatchJobView,
        "Batch jobs",
        label=_l("My batch jobs"),
        icon="fa-tasks",
        category="Customer lists",
        category_label=_l("Customer lists"),
    )
    appbuilder.add_link(
        "Upload list",
        label=_l("Upload a customer list"),
        href="/batch-jobs/upload",
        category="Customer lists",
        icon="fa-upload",
    )
    appbuilder.add_view(
        TaskView,
        "Tasks",
        label=_l("Tasks"),
        icon="fa-list-ol",
        category="Customer lists",
    )
    appbuilder.add_view(
        InvalidEmailsView,
        "Invalid e-mails",
        label=_l("Incorrect e-mails"),
        icon="fa-exclamation-triangle",
        category="Customer lists",
    )
    appbuilder.add_view(
        InspectionView,
        "Inspections",
        label=_l("Find a vehicle"),
        icon="fa-search",
        category="Inspection forms",
        category_label=_l("Inspection forms"),
    )
    appbuilder.add_link(
        "All inspection forms",
        label=_l("All forms"),
        href="/inspections/all",
        category="Inspection forms",
        icon="fa-list",
    )
    # Issue 17: rq-dashboard (views/rq_console.py); Admin only, like every Platform entry.
    appbuilder.add_link(
        "Queues",
        label=_l("Queues and workers"),
        href="/admin/rq/",
        category="Platform",
        icon="fa-tasks",
    )
    # Issue 18: the vehicle register's files and their imports; Admin only.
    appbuilder.add_view_no_menu(RegisterView)
    allow_large_register_files(current_app._get_current_object())
    appbuilder.add_link(
        "Vehicle register",
        label=_l("Vehicle register"),
        href="/register/",
        category="Platform",
        icon="fa-database",
    )
    appbuilder.add_link(
        "Recall data",
        label=_l("Import recall data"),
        href="/inspections/recalls",
        category="Platform",
        icon="fa-exclamation-circle",
    )
    appbuilder.add_view(
        ProposalView,
        "Proposals",
        label=_l("Contact proposals"),
        icon="fa-calendar-check-o",
        category="Contacts",
        category_label=_l("Contacts"),
    )
    # Issue 18: the cars whose owners the garage calls in for a recall.
    appbuilder.add_view(
        RecallListView,
        "Open recalls",
        label=_l("Open recalls"),
        icon="fa-exclamation-triangle",
        category="Contacts",
    )
    appbuilder.add_link(
        "Conversion",
        label=_l("Conversion"),
        href="/proposals/conversion",
        category="Contacts",
        icon="fa-line-chart",
    )
    appbuilder.add_link(
        "Upload invoices",
        label=_l("Upload invoices"),
        href="/proposals/invoices",
        category="Contacts",
        icon="fa-upload",
    )
    appbuilder.add_view(
        FleetAccountView, "Fleet accounts", label=_l("Fleet accounts"), icon="fa-truck"
    )
    appbuilder.add_view(
        MyGarageView,
        "Garage settings",
        label=_l("Garage settings"),
        icon="fa-wrench",
        href="/my-garage/mine",
        category="My garage",
        category_label=_l("My garage"),
    )
    appbuilder.add_link(
        "Garage logo",
        label=_l("Logo for printed forms"),
        href="/my-garage/logo",
        category="My garage",
        icon="fa-image",
    )
    appbuilder.add_view(
        WebhookView,
        "Webhooks",
        label=_l("Webhooks"),
        icon="fa-plug",
        href="/webhooks/",
        category="My garage",
    )
    appbuilder.add_view(
        ColleagueView, "Colleagues", label=_l("Colleagues"), icon="fa-user", category="My garage"
    )
    appbuilder.add_link(
        "New colleague",
        label=_l("New colleague"),
        href="/colleagues/new",
        category="My garage",
        icon="fa-user-plus",
    )
    # A garage's API keys (issue 16): its own under "My garage", every garage's for Admin.
    appbuilder.add_view_no_menu(ApiKeyView)
    appbuilder.add_link(
        "API keys",
        label=_l("API keys"),
        href="/api-keys/list/",
        category="My garage",
        icon="fa-key",
    )
    appbuilder.add_view(
        GarageView,
        "Garages",
        label=_l("Garages"),
        icon="fa-building",
        category="Platform",
        category_label=_l("Platform"),
    )
    appbuilder.add_view(
        AuditLogView, "Audit log", label=_l("Audit log"), icon="fa-history", category="Platform"
    )
    appbuilder.add_link(
        "All API keys",
        label=_l("API keys"),
        href="/api-keys/list/",
        category="Platform",
        icon="fa-key",
    )
    appbuilder.add_view(
        # Not "Outbox": that is the view's permission name, and FAB would drop the menu's
        # permission from it (and add it back) on every sync.
        OutboxView,
        "Mail outbox",
        label=_l("Outbox"),
        icon="fa-envelope",
        category="Platform",
    )
    appbuilder.add_view_no_menu(PasswordResetView)
    appbuilder.add_view_no_menu(ActivationView)
    appbuilder.add_view_no_menu(HealthView)
    appbuilder.add_view_no_menu(ExportFileView)
    appbuilder.add_view_no_menu(PublicInspectionView)
    appbuilder.add_view_no_menu(OptOutView)
    appbuilder.add_view_no_menu(CalendarFeedView)  # issue 18: panels on the owner's pages
    appbuilder.add_view_no_menu(DataExportView)  # issue 19: a customer's data export
    # Public forms that mail someone or try a link or password: limited per client, like
    # the login; the opt-out link per token (admin_app/limits.py, DESIGN-NOTES "Limits").
    apply_limits(
        appbuilder,
        per_client_forms=(PasswordResetView, ActivationView),
        opt_out_view=OptOutView,
        calendar_view=CalendarFeedView,
    )
