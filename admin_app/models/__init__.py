"""All models, imported here so Alembic and the app see one metadata."""

from admin_app.models.api_keys import ApiKey
from admin_app.models.apk_reminders import ApkDigest, ApkReminder, ApkReminderRun
from admin_app.models.audit import AuditLog
from admin_app.models.batch_jobs import BatchJob, BatchRow, BatchState
from admin_app.models.calendar_feeds import CalendarFeed
from admin_app.models.customers import Customer
from admin_app.models.data_exports import DataExport
from admin_app.models.erasures import Erasure
from admin_app.models.exports import ExportFile
from admin_app.models.fleets import FleetAccount
from admin_app.models.garages import Garage
from admin_app.models.idempotency import IdempotencyKey
from admin_app.models.inspections import (
    Checkpoint,
    InspectionForm,
    InspectionFormVersion,
    InspectionInvitation,
    PerformedWork,
    Recall,
)
from admin_app.models.outbox import OutboxMessage
from admin_app.models.passports import Passport, PassportClaim, PassportState
from admin_app.models.proposals import ContactProposal, Invoice, WeeklyRun
from admin_app.models.register import (
    RecallDetail,
    RegisteredFuel,
    RegisteredVehicle,
    RegisterImport,
)
from admin_app.models.register_refresh import RegisterPlateAsked, RegisterRefresh
from admin_app.models.search import CustomerSearch, PassportSearch
from admin_app.models.tasks import Task, TaskRow
from admin_app.models.tokens import AccessToken
from admin_app.models.transfers import Transfer, TransferState
from admin_app.models.users import ConsoleUser
from admin_app.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AccessToken",
    "ApiKey",
    "ApkDigest",
    "ApkReminder",
    "ApkReminderRun",
    "AuditLog",
    "BatchJob",
    "BatchRow",
    "BatchState",
    "CalendarFeed",
    "Checkpoint",
    "ContactProposal",
    "ConsoleUser",
    "Customer",
    "CustomerSearch",
    "DataExport",
    "Erasure",
    "ExportFile",
    "FleetAccount",
    "Garage",
    "IdempotencyKey",
    "InspectionForm",
    "InspectionFormVersion",
    "InspectionInvitation",
    "Invoice",
    "OutboxMessage",
    "Passport",
    "PassportClaim",
    "PassportSearch",
    "PassportState",
    "PerformedWork",
    "Recall",
    "RecallDetail",
    "RegisterImport",
    "RegisterPlateAsked",
    "RegisterRefresh",
    "RegisteredFuel",
    "RegisteredVehicle",
    "Task",
    "TaskRow",
    "Transfer",
    "TransferState",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WeeklyRun",
]
