"""REST API of contact proposals and invoices (R-CP, SPEC's contract)."""

from __future__ import annotations

from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface

from admin_app.api import schemas
from admin_app.api.base import ConsoleApi
from admin_app.db import unit_of_work
from admin_app.extensions import db
from admin_app.models import ContactProposal, Invoice
from admin_app.models.base import utcnow
from admin_app.services import proposals


class ContactProposalApi(ConsoleApi):
    resource_name = "contact_proposal"
    openapi_example = {
        "id": 230,
        "week": "2026-W49",
        "customer_id": 301,
        "passport_id": 812,
        "reason": "periodic",
        "predicted_date": "2027-01-12",
        "decision": None,
        "closed": False,
    }
    class_permission_name = "ContactProposal"
    datamodel = SQLAInterface(ContactProposal)
    input_schemas = {"put": schemas.Decision}
    include_route_methods = {"get", "get_list", "info", "put"}
    list_columns = [
        "id",
        "week",
        "customer_id",
        "passport_id",
        "reason",
        "predicted_date",
        "decision",
        "closed",
    ]
    order_columns = ["id", "week", "predicted_date"]
    search_columns = ["week", "decision", "reason", "closed"]

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    def put(self, pk):
        """`{"decision": "yes"|"no"|"never"}`; 409 once the week has closed (R-CP-2).
        ---
        put:
          summary: Decide on a contact proposal (R-CP-2)
          responses:
            409:
              description: The week is closed
        """
        body = self.json_body()
        with unit_of_work(db.session):
            (proposal,) = proposals.decide(
                db.session, [pk], body.get("decision"), actor=self.actor(), now=utcnow()
            )
        return self.one(proposal)


class InvoiceApi(ConsoleApi):
    """Invoices from the garage's management system, one at a time (R-CP-1)."""

    resource_name = "invoice"
    openapi_example = {
        "id": 1200,
        "invoice_number": "F2026-0412",
        "invoice_date": "2026-11-28",
        "plate": "12ABC3",
        "customer_number": "K-1042",
        "customer_id": 301,
        "amount_cents": 123456,
        "kind": "maintenance",
    }
    class_permission_name = "Invoice"
    datamodel = SQLAInterface(Invoice)
    input_schemas = {"post": schemas.InvoiceInput}
    include_route_methods = {"get", "get_list", "info", "post"}
    list_columns = [
        "id",
        "invoice_number",
        "invoice_date",
        "plate",
        "customer_number",
        "customer_id",
        "amount_cents",
        "kind",
    ]
    order_columns = ["id", "invoice_date"]
    search_columns = ["invoice_number", "plate", "invoice_date", "kind"]

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """`{invoice_number, invoice_date, plate, customer_number, amount ("1.234,56" or a
        number), kind}`: 201 with a new invoice, 200 with the stored one when the garage
        sent it before (the same number, or without one the same values; R-CP-4).
        ---
        post:
          summary: Add an invoice from the management system (R-CP-1, R-CP-4)
          responses:
            200:
              description: Sent before; the stored invoice
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/InvoiceApi.get'}
            201:
              description: The new invoice
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/InvoiceApi.get'}
        """
        with unit_of_work(db.session):
            invoice, new = proposals.create_invoice(
                db.session, actor=self.actor(), values=self.json_body()
            )
        return self.one(invoice, 201 if new else 200)
