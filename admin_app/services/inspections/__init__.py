"""Vehicle inspection forms (R-IN-1…7): find, create, fill in, save as versions, mail.

A form is a draft until its first save; each save is a numbered version holding a copy
of the content, so an earlier version opens exactly as it was. After the inspection day a
saved form only takes performed work, unless the garage marked it "options and prices
are still being adjusted".
"""

from __future__ import annotations

from admin_app.domain.money import euro
from admin_app.services.inspections.access import editable, get_form
from admin_app.services.inspections.checklist import add_checkpoint, checklist, remove_checkpoint
from admin_app.services.inspections.document import (
    CUSTOMER_FIELDS,
    CUSTOMER_LABELS,
    PASSPORT_DATES,
    VEHICLE_FIELDS,
    VEHICLE_LABELS,
    AdviceLine,
    CheckpointResult,
    CustomerBlock,
    FormDocument,
    PassportDates,
    VehicleBlock,
    form_document,
)
from admin_app.services.inspections.drafts import create_draft
from admin_app.services.inspections.editing import update_form
from admin_app.services.inspections.finding import Found, find_vehicle, register_invitation
from admin_app.services.inspections.mailing import (
    FORM_LINK,
    FORM_LINK_TTL,
    customer_email,
    form_from_link,
    mail_again,
    mail_form,
    mail_summary,
    ownership_periods,
)
from admin_app.services.inspections.money import MAX_ADVICE_CENTS, VAT_PERCENT, parse_price, vat_in
from admin_app.services.inspections.performed_work import add_performed_work
from admin_app.services.inspections.printed import (
    form_pdf,
    form_recalls,
    print_context,
    print_html,
    version_content,
)
from admin_app.services.inspections.readers import (
    ReadableForm,
    fleet_car_forms,
    owner_car_forms,
    read_only_context,
    readable_form,
)
from admin_app.services.inspections.recall_file import import_recalls
from admin_app.services.inspections.saving import describe_changes, save_form
from admin_app.services.inspections.shown_dates import ShownDate, add_months, dates_to_show

# What the screens, the API, the mails, the jobs and the tests use of the package.
__all__ = [
    "FORM_LINK",
    "FORM_LINK_TTL",
    "MAX_ADVICE_CENTS",
    "PASSPORT_DATES",
    "VAT_PERCENT",
    "CUSTOMER_FIELDS",
    "CUSTOMER_LABELS",
    "VEHICLE_FIELDS",
    "VEHICLE_LABELS",
    "AdviceLine",
    "CheckpointResult",
    "CustomerBlock",
    "FormDocument",
    "Found",
    "PassportDates",
    "ReadableForm",
    "ShownDate",
    "VehicleBlock",
    "add_checkpoint",
    "add_months",
    "add_performed_work",
    "checklist",
    "create_draft",
    "customer_email",
    "dates_to_show",
    "describe_changes",
    "editable",
    "euro",
    "find_vehicle",
    "fleet_car_forms",
    "form_document",
    "form_from_link",
    "form_pdf",
    "form_recalls",
    "get_form",
    "import_recalls",
    "mail_again",
    "mail_form",
    "mail_summary",
    "owner_car_forms",
    "ownership_periods",
    "parse_price",
    "print_context",
    "print_html",
    "read_only_context",
    "readable_form",
    "register_invitation",
    "remove_checkpoint",
    "save_form",
    "update_form",
    "vat_in",
    "version_content",
]
