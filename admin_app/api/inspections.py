"""REST API of inspection forms (R-IN, SPEC's contract): thin over services.inspections."""

from __future__ import annotations

from flask import Response
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface

from admin_app.api import schemas
from admin_app.api.base import ConsoleApi
from admin_app.db import unit_of_work
from admin_app.extensions import db
from admin_app.models import InspectionForm, InspectionInvitation
from admin_app.services import inspections


class InspectionFormApi(ConsoleApi):
    resource_name = "inspection_form"
    openapi_example = {
        "id": 90,
        "kind": "customer",
        "plate": "12ABC3",
        "passport_id": 812,
        "inspector": "Piet",
        "inspection_date": "2026-12-01",
        "version": 1,
        "is_draft": False,
        "send_updates": True,
        "still_adjusting": False,
        "saved_at": "2026-12-01T10:15:00",
    }
    class_permission_name = "InspectionForm"
    datamodel = SQLAInterface(InspectionForm)
    input_schemas = {
        "post": schemas.NewInspectionForm,
        "put": schemas.InspectionFormChanges,
        "save": schemas.InspectionFormChanges,
        "performed_work": schemas.PerformedWorkInput,
    }
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "post",
        "put",
        "save",
        "pdf",
        "performed_work",
        "mail_again",
    }
    list_columns = [
        "id",
        "kind",
        "plate",
        "passport_id",
        "inspector",
        "inspection_date",
        "version",
        "is_draft",
        "send_updates",
        "still_adjusting",
        "saved_at",
    ]
    show_columns = [*list_columns, "content"]
    order_columns = ["id", "inspection_date"]
    search_columns = ["plate", "inspection_date"]

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """`{kind: customer|all_ok|blank, passport_id, inspector, inspection_date}` → a draft.
        ---
        post:
          summary: Start a draft inspection form (R-IN-2)
          responses:
            201:
              description: The new draft
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/InspectionFormApi.get'}
        """
        body = self.json_body()
        with unit_of_work(db.session):
            form = inspections.create_draft(
                db.session,
                kind=body.get("kind"),
                actor=self.actor(),
                inspector=body.get("inspector"),
                inspection_date=body.get("inspection_date"),
                passport_id=body.get("passport_id"),
            )
        return self.one(form, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    def put(self, pk):
        """Edits of the current content: results, advice, customer, vehicle, dates, flags.
        ---
        put:
          summary: Change the form's current content (R-IN-3)
        """
        with unit_of_work(db.session):
            form = inspections.update_form(db.session, pk, self.json_body(), actor=self.actor())
        return self.one(form)

    @expose("/<int:pk>/save", methods=["POST"])
    @protect()
    def save(self, pk):
        """A new version (R-IN-5); an optional body is applied first, as by PUT.
        ---
        post:
          summary: Save the form as a new version (R-IN-5)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            if body:
                inspections.update_form(db.session, pk, body, actor=self.actor())
            inspections.save_form(db.session, pk, actor=self.actor())
        return self.one(inspections.get_form(db.session, pk))

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    def pdf(self, pk):
        """
        ---
        get:
          summary: The printed form (R-IN-7)
          responses:
            200:
              description: A PDF
              content:
                application/pdf:
                  schema: {type: string, format: binary}
            409:
              description: A draft is not printed
        """
        form, data = inspections.form_pdf(db.session, pk)
        name = f"inspectie-{form.plate or form.id}-v{form.version}.pdf"
        return Response(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    @expose("/<int:pk>/performed_work", methods=["POST"])
    @protect()
    def performed_work(self, pk):
        """`{description, done_on}`: noted on a saved form at any time (R-IN-4).
        ---
        post:
          summary: Note work done after the inspection (R-IN-4)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            inspections.add_performed_work(
                db.session,
                pk,
                description=body.get("description"),
                done_on=body.get("done_on"),
                actor=self.actor(),
            )
        return self.one(inspections.get_form(db.session, pk))

    @expose("/<int:pk>/mail_again", methods=["POST"])
    @protect()
    def mail_again(self, pk):
        """
        ---
        post:
          summary: Mail the saved form to the customer again
        """
        with unit_of_work(db.session):
            inspections.mail_again(db.session, pk, actor=self.actor())
        return self.one(inspections.get_form(db.session, pk))


class InspectionInvitationApi(ConsoleApi):
    """A customer registered a plate for an inspection (R-IN-1)."""

    resource_name = "inspection_invitation"
    openapi_example = {
        "id": 7,
        "passport_id": 812,
        "wanted_date": "2026-12-15",
        "note": "Graag 's ochtends",
        "registered_at": "2026-12-01T09:30:00",
    }
    class_permission_name = "InspectionForm"
    datamodel = SQLAInterface(InspectionInvitation)
    input_schemas = {"post": schemas.InvitationInput}
    include_route_methods = {"get", "get_list", "info", "post"}
    list_columns = ["id", "passport_id", "wanted_date", "note", "registered_at"]

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """
        ---
        post:
          summary: Register a plate for an inspection (R-IN-1)
          responses:
            201:
              description: The new invitation
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/InspectionInvitationApi.get'}
        """
        body = self.json_body()
        with unit_of_work(db.session):
            invitation = inspections.register_invitation(
                db.session,
                passport_id=body.get("passport_id"),
                actor=self.actor(),
                wanted_date=body.get("wanted_date"),
                note=body.get("note"),
            )
        return self.one(invitation, 201)
