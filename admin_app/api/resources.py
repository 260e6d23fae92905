"""Read endpoints for passports, customers, fleet accounts and the outbox."""

from __future__ import annotations

from flask import Response, request
from flask_appbuilder.api import expose, protect
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterRelationOneToManyEqual,
    FilterStartsWith,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext
from sqlalchemy import select

from admin_app.api import schemas
from admin_app.api.base import ConsoleApi
from admin_app.db import unit_of_work
from admin_app.domain.clock import local_today
from admin_app.domain.errors import InvalidInput, NotFound
from admin_app.extensions import db
from admin_app.models import (
    BatchJob,
    Customer,
    FleetAccount,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.scope import scoped_get
from admin_app.services import batch_jobs, bounces, erasure, fleets, transfers, vehicle_values
from admin_app.services import passports as passport_rules
from admin_app.services.customer_lists import XLSX_MIMETYPE
from admin_app.services.passports import PersonDetails, VehicleDetails
from admin_app.services.recalls import open_recalls
from admin_app.web.filters import (
    FilterEmailEqual,
    FilterOwnerEmailContains,
    FilterOwnerEmailEqual,
    FilterPlateContains,
    FilterPlateStartsWith,
)


class PassportInterface(vehicle_values.OrderedAsCounted, SQLAInterface):
    """Passports as the API lists them: sorted by the values as they count (issue 18)."""


class PassportApi(ConsoleApi):
    """Passports: read, create and update (flat fields), and the actions of the contract."""

    resource_name = "passport"
    openapi_example = {
        "id": 812,
        "plate": "12ABC3",
        "plate_display": "12-ABC-3",
        "state": "sent",
        "email": "j.devries@example.nl",
        "customer_id": 301,
        "garage_id": 1,
        "fleet_account_id": None,
        "stock_car": False,
        "brand": "Volkswagen",
        "model": "Golf",
        "apk_expiry": "2027-05-31",
        "fuel": "Benzine",
        "first_registration": "2022-08-13",
        "register_checked_on": "2026-12-05",
        "open_recall_count": 1,
    }
    include_route_methods = {
        "passport_recalls",
        "get",
        "get_list",
        "info",
        "post",
        "put",
        "send",
        "transfer",
        "archive",
        "move",
        "link_fleet",
        "unlink_fleet",
        "invalid_emails",
        "allowed_actions",
    }
    class_permission_name = "Passport"
    # order_column=apk_expiry sorts by the APK expiry that counts (issue 18), as the
    # result shows it.
    datamodel = PassportInterface(Passport)
    input_schemas = {
        "post": schemas.PassportInput,
        "put": schemas.PassportChanges,
        "transfer": schemas.TransferInput,
        "link_fleet": schemas.FleetLink,
        "move": schemas.MoveInput,
    }
    list_columns = [
        "id",
        "plate",
        "plate_display",
        "state",
        "email",
        "customer_id",
        "garage_id",
        "fleet_account_id",
        "stock_car",
        "brand",
        "model",
        "apk_expiry",
        "fuel",
        "first_registration",
    ]
    order_columns = ["id", "plate", "state", "apk_expiry"]
    search_columns = ["plate", "state", "fleet_account", "garage"]
    search_filters = {
        "plate": [FilterEqual, FilterPlateStartsWith, FilterPlateContains],
        "state": [FilterEqual],
        "fleet_account": [FilterRelationOneToManyEqual],
        "garage": [FilterRelationOneToManyEqual],
    }

    # The owner's e-mail, case-insensitive as customers are found (R-PP-5).
    contract_filters = {"email": [FilterOwnerEmailEqual, FilterOwnerEmailContains]}

    # --- the vehicle register's values in every result (issue 18) ------------------------

    def one(self, item, status: int = 200):
        result = self.show_model_schema.dump(item)  # "id" is one of its columns
        self._complete([result])
        return self.response(status, id=item.id, result=result)

    def pre_get(self, data):
        self._complete([data["result"]], [data["id"]])

    def pre_get_list(self, data):
        self._complete(data["result"], data["ids"])

    @staticmethod
    def _complete(results: list[dict], ids: list[int] | None = None) -> None:
        """Brand, model, fuel, first registration and APK expiry as they count (typed,
        else the register's; the later APK date), the day the register last held the
        plate, and the open recalls' count: services/vehicle_values.py and recalls.py,
        one query each for the whole page. ``ids`` in the results' order: a result of
        `q=(columns:…)` has no "id"; it gets the values of the columns it asked for."""
        if ids is None:
            ids = [r.get("id") for r in results]
        passports = db.session.scalars(select(Passport).where(Passport.id.in_(ids))).all()
        values = vehicle_values.values_of(db.session, passports)
        recalls = open_recalls(db.session, [p.plate for p in passports])
        by_id = {p.id: p for p in passports}
        for result, pk in zip(results, ids, strict=True):
            passport = by_id.get(pk)
            if passport is None:
                continue
            whole = "id" in result  # not narrowed by `columns`
            car = values[passport.id]
            for name, value in car.fields().items():
                if whole or name in result:
                    shown = value.value
                    result[name] = shown.isoformat() if hasattr(shown, "isoformat") else shown
            if whole:
                checked = car.register_checked_on
                result["register_checked_on"] = checked.isoformat() if checked else None
                result["open_recall_count"] = len(recalls.get(passport.plate, []))

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        # Not columns of the passport: FAB's schemas cannot know them.
        extra = {
            "register_checked_on": {
                "type": "string",
                "format": "date",
                "nullable": True,
                "description": "The day the vehicle register last held the plate; "
                "null when it never did.",
            },
            "open_recall_count": {
                "type": "integer",
                "description": "Open recalls of the plate (RDW code_status O).",
            },
        }
        for name in (self.show_model_schema_name, self.list_model_schema_name):
            api_spec.components.schemas[name].setdefault("properties", {}).update(extra)

    @expose("/<int:pk>/recalls", methods=["GET"])
    @protect()
    def passport_recalls(self, pk):
        """The passport's open recalls (issue 18), for whoever may read the passport.
        ---
        get:
          summary: The open recalls of the passport's car (RDW recall status O)
          responses:
            200:
              description: The open recalls, in reference order
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      count: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            reference: {type: string}
                            description: {type: string, nullable: true}
                            remedy: {type: string, nullable: true}
                            consequences: {type: string, nullable: true}
                            published_on: {type: string, format: date, nullable: true}
                  example:
                    id: 812
                    count: 1
                    result:
                      - reference: RDW2024000
                        description: Stuurkogel kan loslaten
                        remedy: Stuurkogel vervangen
                        consequences: Verminderde bestuurbaarheid
                        published_on: "2024-03-01"
        """
        passport = passport_rules.get_passport(db.session, pk)
        recalls = open_recalls(db.session, [passport.plate]).get(passport.plate, [])
        result = [
            {
                "reference": r.reference,
                "description": r.description,
                "remedy": r.remedy,
                "consequences": r.consequences,
                "published_on": r.published_on.isoformat() if r.published_on else None,
            }
            for r in recalls
        ]
        return self.response(200, id=passport.id, count=len(result), result=result)

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """Create a passport (R-PP-1, 2, 3, 6): 201, or 422/409 with the reasons.
        ---
        post:
          summary: Create a passport (R-PP-1, R-PP-6)
          responses:
            201:
              description: The new passport
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/PassportApi.get'}
            409:
              description: The plate is live at another garage, or here already
        """
        body = self.json_body()
        with unit_of_work(db.session):
            passport = passport_rules.create_passport(
                db.session,
                actor=self.actor(),
                plate=body.get("plate", ""),
                person=PersonDetails.from_mapping(body),
                vehicle=VehicleDetails.from_mapping(body),
                fleet_account_id=body.get("fleet_account_id"),
                via="api",
            )
        return self.one(passport, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    def put(self, pk):
        """Update vehicle and owner details as the profile does (R-PP-1): only the fields
        given, only changed ones written and audited; the e-mail follows R-PP-7.
        ---
        put:
          summary: Change a passport's vehicle and owner details (R-PP-1, R-PP-7)
          responses:
            200:
              description: The passport, as GET returns it
            409:
              description: Archived, or the e-mail is locked (R-PP-7)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            passport = passport_rules.update_passport(db.session, pk, body, actor=self.actor())
        return self.one(passport)

    @expose("/<int:pk>/send", methods=["POST"])
    @protect()
    def send(self, pk):
        """
        ---
        post:
          summary: Send the passport to its owner (R-PP-4)
          description: Takes no body. 409 when it cannot be sent now (no e-mail, archived).
        """
        with unit_of_work(db.session):
            passport = passport_rules.send_passport(db.session, pk, actor=self.actor())
        return self.one(passport)

    @expose("/<int:pk>/transfer", methods=["POST"])
    @protect()
    def transfer(self, pk):
        """
        ---
        post:
          summary: Start a transfer to a new owner or driver (R-TR, R-FL-5)
          description: >-
            `kind` is `owner` (default) or `driver`, with the new person's fields.
          responses:
            200:
              description: The transfer
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/TransferApi.get'}
            409:
              description: A transfer is pending already, or the passport is not active
        """
        body = self.json_body()
        with unit_of_work(db.session):
            started = transfers.start_transfer(
                db.session,
                pk,
                actor=self.actor(),
                kind=body.get("kind") or "owner",
                person=PersonDetails.from_mapping(body),
            )
        return _registered(TransferApi).one(started.transfer)

    @expose("/<int:pk>/actions", methods=["GET"])
    @protect()
    def allowed_actions(self, pk):  # not "actions": FAB's name for its bulk actions
        """Which actions the caller may take on the passport now, with the reason for each
        one he may not: the answer the profile's buttons and the actions themselves go by
        (services.passports.allowed_actions).
        ---
        get:
          summary: The actions the caller may take on the passport now, and why not
          responses:
            200:
              description: Per action, whether it is allowed and otherwise why not
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        type: object
                        additionalProperties:
                          type: object
                          properties:
                            allowed: {type: boolean}
                            reason: {type: string, nullable: true}
                  example:
                    id: 12
                    result:
                      send: {allowed: true, reason: null}
                      archive: {allowed: false, reason: A transfer is pending.}
        """
        passport = passport_rules.get_passport(db.session, pk)
        refusals = passport_rules.allowed_actions(db.session, self.actor(), passport)
        result = {
            action: {
                "allowed": refusal is None,
                "reason": None if refusal is None else str(refusal.reason),
            }
            for action, refusal in refusals.items()
        }
        return self.response(200, id=passport.id, result=result)

    @expose("/invalid_emails", methods=["GET"])
    @protect()
    def invalid_emails(self):
        """R-BJ-7: passports whose owner's address bounced; Support sees every garage.
        ---
        get:
          summary: Passports whose owner's e-mail bounced (R-BJ-7)
          responses:
            200:
              description: The passports, as the list gives them
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      ids: {type: array, items: {type: integer}}
                      result:
                        type: array
                        items: {$ref: '#/components/schemas/PassportApi.get'}
        """
        passports = bounces.invalid_email_passports(db.session)
        result = [self.show_model_schema.dump(p) for p in passports]
        self._complete(result)
        return self.response(200, count=len(result), ids=[p.id for p in passports], result=result)

    @expose("/<int:pk>/fleet", methods=["PUT"])
    @protect()
    def link_fleet(self, pk):
        """R-FL-3: {"fleet_account_id"} links the passport to one of the garage's fleets.
        ---
        put:
          summary: Link the passport to one of the garage's fleet accounts (R-FL-3)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            passport = fleets.link_passport(
                db.session, pk, body.get("fleet_account_id"), actor=self.actor()
            )
        return self.one(passport)

    @expose("/<int:pk>/fleet", methods=["DELETE"])
    @protect()
    def unlink_fleet(self, pk):
        """
        ---
        delete:
          summary: Unlink the passport from its fleet account (R-FL-3)
        """
        with unit_of_work(db.session):
            passport = fleets.unlink_passport(db.session, pk, actor=self.actor())
        return self.one(passport)

    @expose("/<int:pk>/archive", methods=["POST"])
    @protect()
    def archive(self, pk):
        """
        ---
        post:
          summary: Archive the passport (R-PP-8)
          description: Takes no body; its plate is free for a new passport afterwards.
        """
        with unit_of_work(db.session):
            passport = passport_rules.archive_passport(db.session, pk, actor=self.actor())
        return self.one(passport)

    @expose("/<int:pk>/move", methods=["POST"])
    @protect()
    def move(self, pk):
        """Admin and Support: {"garage_id"} (R-PP-8).
        ---
        post:
          summary: Move the passport to another garage (Admin, Support; R-PP-8)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            passport = passport_rules.move_passport(
                db.session, pk, body.get("garage_id"), actor=self.actor()
            )
        return self.one(passport)


class CustomerApi(ConsoleApi):
    resource_name = "customer"
    openapi_example = {
        "id": 301,
        "first_name": "Jan",
        "infix": "de",
        "last_name": "Vries",
        "email": "j.devries@example.nl",
        "street": "Dorpsstraat",
        "house_number": "12",
        "postcode": "1234 AB",
        "city": "Utrecht",
        "phone": "06 12345678",
        "customer_number": "K-1042",
        "garage_id": 1,
    }
    class_permission_name = "Customer"
    datamodel = SQLAInterface(Customer)
    include_route_methods = {"get", "get_list", "info", "put", "erase"}
    input_schemas = {"put": schemas.Person, "erase": schemas.ErasureInput}
    list_columns = ["id", *CONTACT_FIELDS[:3], "email", *CONTACT_FIELDS[3:], "garage_id"]
    order_columns = ["id", "last_name"]
    search_columns = ["email", "last_name"]
    search_filters = {"email": [FilterEqual], "last_name": [FilterEqual, FilterStartsWith]}
    contract_filters = {"email": [FilterEmailEqual]}

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    def put(self, pk):
        """Contact details; a changed e-mail follows R-PP-7.
        ---
        put:
          summary: Change a customer's contact details (R-PP-7 for the e-mail)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            customer = passport_rules.update_customer(db.session, pk, body, actor=self.actor())
        return self.one(customer)

    @expose("/<int:pk>/erase", methods=["POST"])
    @protect()
    def erase(self, pk):
        """Erase this garage's customer (issue 19, R-DR-2): his values anonymized wherever
        they occur, his cars here archived without owner; his login and other garages
        untouched. Support only. 409 with the reason while a transfer is pending, he
        manages a fleet with cars or a list not yet run names him; erasing again changes
        nothing.
        ---
        post:
          summary: Erase a customer (AVG/GDPR, R-DR-2; Support only)
        """
        body = self.json_body()
        customer = scoped_get(db.session, Customer, pk)
        if customer is None:
            raise NotFound(lazy_gettext("Not found"))
        reason, requested_on = erasure.parse_request(
            body.get("reason"), body.get("requested_on"), today=local_today()
        )
        with unit_of_work(db.session):
            erasure.erase_customer(db.session, self.actor(), customer, reason, requested_on)
        db.session.refresh(customer)
        return self.one(customer)


class FleetAccountApi(ConsoleApi):
    """Fleet accounts (R-FL-1, 2): create from the manager's passport, rename, new e-mail."""

    resource_name = "fleet_account"
    openapi_example = {
        "id": 3,
        "name": "Bouwbedrijf Bakker",
        "email": "wagenpark@bakker.example.nl",
        "manager_passport_id": 812,
        "garage_id": 1,
    }
    include_route_methods = {"get", "get_list", "info", "post", "put"}
    class_permission_name = "FleetAccount"
    datamodel = SQLAInterface(FleetAccount)
    input_schemas = {"post": schemas.FleetAccountInput, "put": schemas.FleetAccountInput}
    list_columns = ["id", "name", "email", "manager_passport_id", "garage_id"]
    order_columns = ["id", "name"]
    search_columns = ["name", "email"]

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """
        ---
        post:
          summary: Create a fleet account from its manager's passport (R-FL-1)
          responses:
            201:
              description: The new fleet account
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/FleetAccountApi.get'}
        """
        body = self.json_body()
        with unit_of_work(db.session):
            fleet = fleets.create_fleet_account(
                db.session,
                actor=self.actor(),
                name=body.get("name", ""),
                email=body.get("email", ""),
                manager_passport_id=body.get("manager_passport_id"),
            )
        return self.one(fleet, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    def put(self, pk):
        """
        ---
        put:
          summary: Rename a fleet account or change its e-mail (R-FL-2)
        """
        body = self.json_body()
        with unit_of_work(db.session):
            if "name" in body:
                fleets.rename_fleet(db.session, pk, body["name"], actor=self.actor())
            if "email" in body:
                fleets.change_fleet_email(db.session, pk, body["email"], actor=self.actor())
            fleet = fleets.get_fleet(db.session, pk)
        return self.one(fleet)


class OutboxApi(ConsoleApi):
    """Sent and pending mail, never the body (it holds access links)."""

    resource_name = "outbox"
    openapi_example = {
        "id": 5120,
        "recipient": "j.devries@example.nl",
        "kind": "activation",
        "state": "sent",
        "attempts": 1,
        "last_error": None,
        "created_at": "2026-12-01T09:30:00",
    }
    class_permission_name = "Outbox"
    datamodel = SQLAInterface(OutboxMessage)
    list_columns = ["id", "recipient", "kind", "state", "attempts", "last_error", "created_at"]
    order_columns = ["id", "created_at"]
    search_columns = ["recipient", "state"]


class TransferApi(ConsoleApi):
    """Transfers (R-TR-5), filterable by passport and state; pending ones can be cancelled."""

    resource_name = "transfer"
    openapi_example = {
        "id": 44,
        "passport_id": 812,
        "kind": "owner",
        "state": "pending",
        "to_email": "p.jansen@example.nl",
        "created_by": "Gert Jansen",
        "created_at": "2026-12-01T09:30:00",
    }
    class_permission_name = "Transfer"
    datamodel = SQLAInterface(Transfer)
    include_route_methods = {"get", "get_list", "info", "cancel"}
    list_columns = ["id", "passport_id", "kind", "state", "to_email", "created_by", "created_at"]
    order_columns = ["id", "created_at"]
    search_columns = ["passport", "state"]
    search_filters = {"passport": [FilterRelationOneToManyEqual], "state": [FilterEqual]}

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    def cancel(self, pk):
        """
        ---
        post:
          summary: Cancel a pending transfer (R-TR-5)
        """
        with unit_of_work(db.session):
            transfer = transfers.cancel_transfer(db.session, pk, actor=self.actor())
        return self.one(transfer)


def _registered(api_class):
    """The registered instance of an API, to answer in its shape from another resource."""
    from admin_app.extensions import appbuilder

    return next(view for view in appbuilder.baseviews if isinstance(view, api_class))


class BatchJobApi(ConsoleApi):
    """Customer-list uploads and their runs (R-BJ-2…6)."""

    resource_name = "batch_job"
    openapi_example = {
        "id": 17,
        "filename": "klanten-december.xlsx",
        "uploaded_by": "Gert Jansen",
        "uploaded_at": "2026-12-01T09:30:00",
        "state": "preview",
        "scheduled_for": None,
        "send_to_customers": True,
        "counts": {"create": 120, "update": 14, "unchanged": 3, "refused": 2},
        "progress": {"done": 139, "total": 139},
    }
    class_permission_name = "BatchJob"
    datamodel = SQLAInterface(BatchJob)
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "post",
        "confirm",
        "cancel",
        "run_now",
        "rows",
        "refused_xlsx",
    }
    list_columns = [
        "id",
        "filename",
        "uploaded_by",
        "uploaded_at",
        "state",
        "scheduled_for",
        "send_to_customers",
        "counts",
        "progress",
    ]
    order_columns = ["id", "uploaded_at"]
    search_columns = ["state"]

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """Multipart `file` (+ `send_to_customers`): 201 with the preview's counts.
        ---
        post:
          summary: Upload a customer list (R-BJ-2)
          description: >-
            An unreadable file is 400, 413 or 422 and stores nothing. A large list is
            previewed in the background: 202 with its progress.
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file]
                  properties:
                    file:
                      type: string
                      format: binary
                      description: the list, .xlsx or .csv
                    send_to_customers:
                      type: string
                      enum: ['true', 'false']
                      description: mail each new passport to its owner once the job ran
          responses:
            201:
              description: Previewed; state `preview` with its counts
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/BatchJobApi.get'}
            202:
              description: Being previewed; state `previewing` with its progress
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/BatchJobApi.get'}
        """
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput(lazy_gettext("Choose a file to upload."), field="file")
        send = (request.form.get("send_to_customers") or "").strip().lower() in (
            "1",
            "true",
            "yes",
            "ja",
            "on",
        )
        with unit_of_work(db.session):
            job = batch_jobs.upload_list(
                db.session,
                actor=self.actor(),
                filename=upload.filename or "lijst",
                data=upload.read(),
                send_to_customers=send,
            )
        # A large list is previewed in the background: 202 with its progress (R-BJ-2).
        return self.one(job, 202 if job.state == "previewing" else 201)

    @expose("/<int:pk>/confirm", methods=["POST"])
    @protect()
    def confirm(self, pk):
        """
        ---
        post:
          summary: Confirm a previewed job; it runs at 01:00 (R-BJ-3)
        """
        with unit_of_work(db.session):
            job = batch_jobs.confirm_job(db.session, pk, actor=self.actor())
        return self.one(job)

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    def cancel(self, pk):
        """
        ---
        post:
          summary: Cancel a job that has not run
        """
        with unit_of_work(db.session):
            job = batch_jobs.cancel_job(db.session, pk, actor=self.actor())
        return self.one(job)

    @expose("/<int:pk>/run_now", methods=["POST"])
    @protect()
    def run_now(self, pk):
        """
        ---
        post:
          summary: Run a confirmed job now (Admin, Support)
        """
        with unit_of_work(db.session):
            job = batch_jobs.run_now(db.session, pk, actor=self.actor())
        with unit_of_work(db.session):  # queued once the claim to queue it commits
            batch_jobs.queue_due_jobs(db.session)
        db.session.refresh(job)
        return self.one(job)

    @expose("/<int:pk>/rows", methods=["GET"])
    @protect()
    def rows(self, pk):
        """Per row: row_number, plate, email, outcome (the plan until it ran), reason (in the
        caller's language, ?_l_=en) and reason_code (codes separated by spaces).
        ---
        get:
          summary: The rows of a batch job with their outcome and reason (R-BJ-5)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: query
            name: outcome
            schema: {type: string, enum: [created, updated, unchanged, refused]}
          responses:
            200:
              description: The job's rows, in sheet order
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      ids: {type: array, items: {type: integer}}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: integer}
                            row_number: {type: integer, description: the sheet row (header = 1)}
                            plate: {type: string}
                            email: {type: string}
                            outcome:
                              type: string
                              description: the plan until the job ran, then what it did
                              enum: [create, update, unchanged, refused, created, updated]
                            reason:
                              type: string
                              nullable: true
                              description: why it is refused, in Dutch or with ?_l_=en English
                            reason_code:
                              type: string
                              nullable: true
                              description: >-
                                the reasons' codes separated by spaces (plate_missing,
                                plate_invalid, plate_repeated, email_missing, email_invalid,
                                last_name_missing, apk_expiry_invalid, cell_too_long,
                                other_garage, email_locked); null for rows refused before
                                codes existed
            404:
              description: Not found, or outside the caller's scope
        """
        job = batch_jobs.get_job(db.session, pk)
        wanted = request.args.get("outcome")
        rows = batch_jobs.job_rows(db.session, job, outcome=wanted)
        result = [batch_jobs.row_result(row) for row in rows]
        return self.response(200, count=len(result), ids=[r["id"] for r in result], result=result)

    @expose("/<int:pk>/refused.xlsx", methods=["GET"])
    @protect()
    def refused_xlsx(self, pk):
        """
        ---
        get:
          summary: The refused rows with their reason, ready to fix and upload (R-BJ-5)
          responses:
            200:
              description: An Excel sheet
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
        """
        job = batch_jobs.get_job(db.session, pk)
        data = batch_jobs.refused_rows_xlsx(db.session, job)
        return Response(
            data,
            mimetype=XLSX_MIMETYPE,
            headers={"Content-Disposition": f'attachment; filename="geweigerd-{job.id}.xlsx"'},
        )
