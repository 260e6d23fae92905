"""The REST API (R-X-4): every resource in one function, called by the app factory after
the screens (views/register_views), as the screens' menu is."""

from __future__ import annotations


def register_apis(appbuilder) -> None:
    from flask_appbuilder.api.manager import SwaggerView

    from admin_app.api.data_exports import CustomerExportApi, DataExportApi
    from admin_app.api.inspections import InspectionFormApi, InspectionInvitationApi
    from admin_app.api.openapi import ConsoleOpenApi
    from admin_app.api.proposals import ContactProposalApi, InvoiceApi
    from admin_app.api.resources import (
        BatchJobApi,
        CustomerApi,
        FleetAccountApi,
        OutboxApi,
        PassportApi,
        TransferApi,
    )

    for api in (
        PassportApi,
        CustomerApi,
        FleetAccountApi,
        OutboxApi,
        TransferApi,
        BatchJobApi,
        InspectionFormApi,
        InspectionInvitationApi,
        ContactProposalApi,
        InvoiceApi,
        CustomerExportApi,  # issue 19: a customer's data export
        DataExportApi,
    ):
        appbuilder.add_api(api)
    appbuilder.add_api(ConsoleOpenApi)
    appbuilder.add_view_no_menu(SwaggerView)
