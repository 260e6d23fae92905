"""The words of the log as a person reads it (issue 14): each table's field labels (as
on its screen), its values' labels, and the sentence of each kind of entry."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from admin_app.models import ConsoleUser, Customer, FleetAccount, Garage, Passport

# Fields a reader has no use for: keys, bookkeeping times, secrets, internal undo state.
# They stay in the stored log and on the raw page of each entry.
BOOKKEEPING = {
    "id",
    "created_at",
    "updated_at",
    "password",
    "confirmation_key",
    "session_generation",
    "created_by_fk",
    "changed_by_fk",
    "created_by_id",
    "invitation_id",
    "form_id",
    "logo_mimetype",
    "previous_state",
    "previous_stock_car",
    "fleet_linked_at",  # follows the fleet link, which the entry shows (issue 15)
    "service_user_id",  # an API key's own login (issue 16): no person to name
}

# A field holding another record's id, and that record's type.
REFERENCES = {
    "garage_id": Garage,
    "owner_id": Customer,
    "driver_id": Customer,
    "from_customer_id": Customer,
    "to_customer_id": Customer,
    "fleet_account_id": FleetAccount,
    "manager_passport_id": Passport,
    "passport_id": Passport,
    "user_id": ConsoleUser,  # a calendar address's login (issue 18)
    "customer_id": Customer,  # whom a data export is about (issue 19)
    "owner_user_id": ConsoleUser,  # an Owner's export of himself (issue 19)
}


def field_labels() -> dict[str, dict]:
    from admin_app.services import labels

    passport = labels.PASSPORT_LABELS
    return {
        "garage": labels.GARAGE_LABELS,
        "customer": {**labels.CUSTOMER_LABELS, "garage_id": labels.CUSTOMER_LABELS["garage"]},
        "passport": {
            **passport,
            "garage_id": passport["garage"],
            "owner_id": passport["owner_name"],
            "driver_id": passport["driver"],
            "fleet_account_id": passport["fleet_account"],
            "sent_at": _l("Sent"),
            "activated_at": _l("Activated"),
            "archived_at": _l("Archived"),
        },
        "fleet_account": {
            **labels.FLEET_ACCOUNT_LABELS,
            "garage_id": labels.FLEET_ACCOUNT_LABELS["garage"],
            "manager_passport_id": labels.FLEET_ACCOUNT_LABELS["manager_passport"],
        },
        "user": {
            **labels.USER_LABELS,
            "garage_id": labels.USER_LABELS["garage"],
            "fleet_account_id": labels.USER_LABELS["fleet_account"],
        },
        "transfer": {
            **labels.TRANSFER_LABELS,
            "passport_id": passport["plate"],
            "garage_id": passport["garage"],
            "from_customer_id": _l("From"),
            "to_customer_id": _l("To"),
            "reminded_at": _l("Reminder sent"),  # issue 18
        },
        "inspection_form": {
            **labels.INSPECTION_FORM_LABELS,
            "garage_id": passport["garage"],
            "passport_id": _l("Vehicle"),
        },
        "performed_work": labels.PERFORMED_WORK_LABELS,
        "api_key": {
            "name": _l("Name"),
            "prefix": _l("Key"),
            "garage_id": _l("Garage"),
            "revoked_at": _l("Revoked"),
            "last_used_at": _l("Last used"),
        },
        "webhook_endpoint": {
            "garage_id": passport["garage"],
            "url": _l("URL"),
            "events": _l("Events"),
            "secret_encrypted": _l("Signing secret"),
            "previous_secret_encrypted": _l("Previous signing secret"),
            "previous_secret_until": _l("Previous secret valid until"),
            "enabled": _l("Switched on"),
            "disabled_at": _l("Switched off"),
            "disabled_reason": _l("Why switched off"),
            "failing_since": _l("Failing since"),
            "created_by_id": _l("Created by"),
            "created_by": _l("Created by"),
        },
        # Issue 18: a vehicle-register file handed to the worker.
        "register_import": {"file": _l("File"), "dataset": _l("Part of the register")},
        # Admin's recall upload, once per file: its counts as the upload's message says them.
        "recall": {
            "file": _l("File"),
            "created": _l("New"),
            "updated": _l("Changed"),
            "unchanged": _l("Unchanged"),
            "refused": _l("Refused"),
        },
        "calendar_feed": {
            "user_id": _l("Login"),
            "revoked_at": _l("Stopped"),
        },
        "data_export": {  # issue 19: a customer's data export asked for, downloaded
            "scope": _l("Covers"),
            "customer_id": _l("Customer"),
            "owner_user_id": _l("Login"),
        },
        "export": {
            "list": _l("List"),
            "filter": _l("Filter"),
            "rows": _l("Rows"),
            "format": _l("Format"),
        },
        # Issue 19: an erase, logged by services/erasure (its values are no one's).
        "erasure": {
            "scope": _l("Erased"),
            "customer_id": _l("Customer"),
            "customers": _l("Customer records erased"),
            "requested_on": _l("Request date"),
            "reason": _l("Reason"),
        },
        # Issue 19: the nightly retention run's counts (services/retention).
        "retention": {
            "lists_cancelled": _l("Customer lists never confirmed, cancelled"),
            "mail_bodies": _l("Mail texts emptied"),
            "batch_rows": _l("Customer-list rows emptied"),
            "links": _l("Mailed links deleted"),
        },
    }


def value_labels() -> dict[tuple[str, str], dict]:
    from admin_app.models.data_exports import DATA_EXPORT_SCOPE_LABELS
    from admin_app.models.erasures import ERASURE_SCOPE_LABELS
    from admin_app.models.inspections import FORM_KIND_LABELS
    from admin_app.models.passports import CREATED_VIA_LABELS, STATE_LABELS
    from admin_app.models.register import DATASET_LABELS
    from admin_app.models.transfers import TRANSFER_KIND_LABELS, TRANSFER_STATE_LABELS
    from admin_app.services.exports import EXPORT_FORMATS, export_titles

    return {
        ("passport", "state"): STATE_LABELS,
        ("passport", "created_via"): CREATED_VIA_LABELS,
        ("transfer", "state"): TRANSFER_STATE_LABELS,
        ("transfer", "kind"): TRANSFER_KIND_LABELS,
        ("inspection_form", "kind"): FORM_KIND_LABELS,
        ("register_import", "dataset"): DATASET_LABELS,
        ("export", "list"): export_titles(),
        ("data_export", "scope"): DATA_EXPORT_SCOPE_LABELS,
        ("erasure", "scope"): ERASURE_SCOPE_LABELS,
        ("export", "format"): EXPORT_FORMATS,
        ("webhook_endpoint", "disabled_reason"): {
            "failing": _l("no delivery succeeded for 24 hours"),
            "by_user": _l("switched off by the garage"),
        },
    }


# What happened, per record type: created, changed, deleted.
SENTENCES = {
    "garage": (_l("Garage created"), _l("Garage changed"), _l("Garage deleted")),
    "customer": (_l("Customer created"), _l("Customer changed"), _l("Customer deleted")),
    "passport": (_l("Passport created"), _l("Passport changed"), _l("Passport deleted")),
    "fleet_account": (
        _l("Fleet account created"),
        _l("Fleet account changed"),
        _l("Fleet account deleted"),
    ),
    "user": (_l("Login created"), _l("Login changed"), _l("Login deleted")),
    "transfer": (_l("Transfer started"), _l("Transfer changed"), _l("Transfer deleted")),
    "inspection_form": (
        _l("Inspection form created"),
        _l("Inspection form changed"),
        _l("Inspection form deleted"),
    ),
    "performed_work": (
        _l("Performed work noted"),
        _l("Performed work changed"),
        _l("Performed work deleted"),
    ),
    "api_key": (_l("API key created"), _l("API key changed"), _l("API key deleted")),
    "webhook_endpoint": (
        _l("Webhook endpoint registered"),
        _l("Webhook endpoint changed"),
        _l("Webhook endpoint deleted"),
    ),
    "calendar_feed": (
        _l("Calendar address made"),
        _l("Calendar address stopped"),
        _l("Calendar address deleted"),
    ),
}
ACTIONS = ("insert", "update", "delete")
# A customer's data export (issue 19): asked for, and each download — reads that are logged.
DATA_EXPORT_WORDS = {
    "insert": _l("Data export asked for"),
    "download": _l("Data export downloaded"),
}
# Support's erase (issue 19): the entry the confirm step promises, with date and reason.
ERASED = _l("Customer data erased (AVG)")
EXPORTED = _l("List exported")
RETAINED_NO_LONGER = _l("Personal data past its retention period removed")
# Files taken in whole, logged once per file (issue 18).
IMPORTED = {
    # Logged when the file is handed to the worker, which may still refuse it (95%).
    "register_import": _l("Vehicle-register file uploaded"),
    "recall": _l("Recall data imported"),
}
# Fields holding an actor's name as the log writes it ("job:demo-data", "systeem").
ACTOR_FIELDS = {"created_by", "added_by"}
SYSTEM_NAME = _l("System")
UNKNOWN = _l("(unknown)")
A_FILE = _l("(a file)")
