"""A customer's data export through the API (issue 19, R-DR-1): asked for, followed, and
downloaded by the requester only; the rules are in services/data_exports."""

from __future__ import annotations

from flask import current_app, send_file
from flask_appbuilder.api import expose, protect

from admin_app.api import schemas
from admin_app.api.base import ConsolePlainApi
from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict
from admin_app.extensions import db
from admin_app.models.base import utcnow
from admin_app.services import data_exports
from admin_app.web.actor import current_actor
from admin_app.web.permissions import DATA_EXPORT_PERMISSIONS


def _state(export) -> dict:
    return {"id": export.id, "state": export.state, "progress": export.progress}


class CustomerExportApi(ConsolePlainApi):
    """``POST /api/v1/customer/<id>/export``: beside CustomerApi's routes, under the data
    export's own permission (a garage its customers, Support any)."""

    resource_name = "customer"
    class_permission_name = "DataExport"
    base_permissions = DATA_EXPORT_PERMISSIONS
    method_permission_name = {"export": "customer"}
    input_schemas = {"export": schemas.DataExportInput}

    @expose("/<int:pk>/export", methods=["POST"])
    @protect()
    def export(self, pk):
        """Ask for a ZIP of what the console holds about this customer (R-DR-1).
        ---
        post:
          summary: Export a customer's data (R-DR-1)
          description: >-
            The worker builds the ZIP; follow it at /data_export/{id}. A garage exports
            its own customer; Support may add `"whole_person": true` for every garage
            where his e-mail is a customer.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            202:
              description: Asked for; being built
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      state: {type: string, enum: [building, ready, failed]}
                  example: {"id": 12, "state": "building"}
            404:
              description: No such customer in your scope
        """
        whole_person = self.json_body().get("whole_person", False)
        actor = current_actor()
        with unit_of_work(db.session, actor):
            export = data_exports.request_customer_export(
                db.session, pk, actor=actor, whole_person=whole_person, now=utcnow()
            )
        return self.response(202, id=export.id, state=export.state)


class DataExportApi(ConsolePlainApi):
    resource_name = "data_export"
    class_permission_name = "DataExport"
    base_permissions = DATA_EXPORT_PERMISSIONS
    method_permission_name = {"get": "read", "download": "read"}

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    def get(self, pk):
        """
        ---
        get:
          summary: A data export's state and progress (R-DR-1)
          description: Only the login that asked sees it; anyone else gets 404.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: Its state and progress in percent
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      state: {type: string, enum: [building, ready, failed]}
                      progress: {type: integer}
                  example: {"id": 12, "state": "ready", "progress": 100}
            404:
              description: Not yours, or none
            410:
              description: Its 7 days are over; the file is deleted
        """
        export = data_exports.get_own_export(
            db.session, pk, user_id=current_actor().id, now=utcnow()
        )
        return self.response(200, **_state(export))

    @expose("/<int:pk>/download", methods=["GET"])
    @protect()
    def download(self, pk):
        """
        ---
        get:
          summary: The export's ZIP, once ready (R-DR-1)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: overzicht.html, gegevens.json and the inspection forms' PDFs
              content:
                application/zip:
                  schema: {type: string, format: binary}
            404:
              description: Not yours, or none
            409:
              description: Still being built, or failed
            410:
              description: Its 7 days are over; the file is deleted
        """
        actor = current_actor()
        with unit_of_work(db.session, actor):
            export, path = data_exports.download(
                db.session,
                pk,
                actor=actor,
                folder=current_app.config["DATA_EXPORT_FOLDER"],
                now=utcnow(),
            )
        if path is None:
            raise Conflict(data_exports.NOT_READY)
        return send_file(
            path,
            mimetype="application/zip",
            as_attachment=True,
            download_name=data_exports.file_name(export),
            max_age=0,
        )
