"""The other list screens as files (issue 15): customers, batch jobs and a job's rows,
inspection forms, invoices, the week's contact proposals, the fleet dashboard, the audit
log and the outbox, each with the columns its screen shows (services/exports.py says how
a list plugs in).

The screens that are not FAB's lists read their rows through the query functions here,
so the screen and its file cannot drift apart. Every query is an ORM query of the request's
session: the row scope (admin_app.scope) applies, an export holds no row the screen
would not show. No column reads a mail's body or parameters (they hold access links) or
a token.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import false
from sqlalchemy.orm import Query, Session, object_session

from admin_app.domain.plates import display_plate
from admin_app.models import (
    AuditLog,
    BatchJob,
    BatchRow,
    ContactProposal,
    InspectionForm,
    Invoice,
)
from admin_app.models.batch_jobs import BATCH_STATE_LABELS, ROW_LABELS, RowPlan
from admin_app.models.outbox import KIND_LABELS as MAIL_KIND_LABELS
from admin_app.models.outbox import STATE_LABELS as MAIL_STATE_LABELS
from admin_app.models.passports import STATE_LABELS as PASSPORT_STATE_LABELS
from admin_app.models.proposals import DECISIONS, INVOICE_KINDS, REASONS
from admin_app.services import dashboard, fleets, recalls
from admin_app.services.exports import DATE, DATETIME, MONEY, NUMBER, TEXT, ExportColumn, ExportList
from admin_app.services.labels import CUSTOMER_LABELS, PASSPORT_LABELS
from admin_app.services.vehicle_values import counted_in_row

# --- customers -------------------------------------------------------------------------------

CUSTOMER_EXPORT = ExportList(
    name="customers",
    title=_l("Customers"),
    columns=(
        ExportColumn(CUSTOMER_LABELS["full_name"], TEXT, lambda row: row.full_name),
        ExportColumn(CUSTOMER_LABELS["email"], TEXT, lambda row: row.email),
        ExportColumn(CUSTOMER_LABELS["city"], TEXT, lambda row: row.city),
        ExportColumn(CUSTOMER_LABELS["customer_number"], TEXT, lambda row: row.customer_number),
        ExportColumn(CUSTOMER_LABELS["garage"], TEXT, lambda row: row.garage.name),
    ),
)

# --- batch jobs and their rows ---------------------------------------------------------------


def _count_of_plan(plan: str, row) -> int:
    return (row.counts or {}).get(plan, 0)


# The counts' columns: one number per plan ("new", "updated", …), as the list's "Counts".
_COUNT_COLUMNS = tuple(
    ExportColumn(
        ROW_LABELS[plan.value],
        NUMBER,
        partial(_count_of_plan, plan.value),
    )
    for plan in RowPlan
)

BATCH_JOB_EXPORT = ExportList(
    name="batch_jobs",
    title=_l("My batch jobs"),
    columns=(
        ExportColumn(_l("File"), TEXT, lambda row: row.filename),
        ExportColumn(_l("Who"), TEXT, lambda row: row.uploader_name()),
        ExportColumn(_l("When"), DATETIME, lambda row: row.uploaded_at),
        ExportColumn(_l("State"), TEXT, lambda row: row.state, words=BATCH_STATE_LABELS),
        ExportColumn(_l("Rows"), NUMBER, lambda row: row.total_rows),
        ExportColumn(_l("Rows done"), NUMBER, lambda row: row.done_rows),
        *_COUNT_COLUMNS,
    ),
)

BATCH_ROW_EXPORT = ExportList(
    name="batch_job_rows",
    title=_l("Rows of a batch job"),
    columns=(
        ExportColumn(_l("Row"), NUMBER, lambda row: row.row_number),
        ExportColumn(_l("Plate"), TEXT, lambda row: row.shown_plate or display_plate(row.plate)),
        ExportColumn(_l("E-mail"), TEXT, lambda row: row.email),
        ExportColumn(_l("Outcome"), TEXT, lambda row: row.outcome or row.plan, words=ROW_LABELS),
        ExportColumn(_l("Reason"), TEXT, lambda row: row.reason_text()),
    ),
)


# --- inspection forms ------------------------------------------------------------------------


def _form_plate(form: InspectionForm) -> str:
    vehicle = (form.content or {}).get("vehicle") or {}
    return display_plate(vehicle.get("plate") or form.plate or "")


def _form_customer(form: InspectionForm) -> str | None:
    return ((form.content or {}).get("customer") or {}).get("name")


DRAFT = _l("Draft")

INSPECTION_FORM_EXPORT = ExportList(
    name="inspection_forms",
    title=_l("All inspection forms"),
    columns=(
        ExportColumn(_l("Inspection date"), DATE, lambda row: row.inspection_date),
        ExportColumn(_l("Plate"), TEXT, _form_plate),
        ExportColumn(_l("Customer"), TEXT, _form_customer),
        ExportColumn(_l("Inspector"), TEXT, lambda row: row.inspector),
        # A draft has no version yet: the word, as on the screen.
        ExportColumn(
            _l("Version"), NUMBER, lambda row: str(DRAFT) if row.is_draft else row.version
        ),
    ),
)


def inspection_forms(session: Session, *, drafts: bool = False) -> Query:
    """Every form in scope, or only the drafts the home page counts, newest inspection
    first (the "All inspection forms" screen shows the first 500 of them)."""
    query = session.query(InspectionForm)
    if drafts:
        query = query.filter(dashboard.draft_forms().whereclause)
    return query.order_by(InspectionForm.inspection_date.desc(), InspectionForm.id.desc())


# --- invoices --------------------------------------------------------------------------------

INVOICE_EXPORT = ExportList(
    name="invoices",
    title=_l("Invoices"),
    columns=(
        ExportColumn(_l("Invoice number"), TEXT, lambda row: row.invoice_number),
        ExportColumn(_l("Invoice date"), DATE, lambda row: row.invoice_date),
        ExportColumn(_l("Plate"), TEXT, lambda row: display_plate(row.plate)),
        ExportColumn(CUSTOMER_LABELS["customer_number"], TEXT, lambda row: row.customer_number),
        ExportColumn(_l("Amount"), MONEY, lambda row: Decimal(row.amount_cents) / 100),
        ExportColumn(_l("Kind"), TEXT, lambda row: row.kind, words=INVOICE_KINDS),
    ),
)


def invoices(session: Session) -> Query:
    """The invoices uploaded so far (R-CP-1), newest first."""
    return session.query(Invoice).order_by(Invoice.invoice_date.desc(), Invoice.id.desc())


# --- the week's contact proposals ------------------------------------------------------------


def _why(row: ContactProposal) -> str:
    reason = str(REASONS.get(row.reason, row.reason))
    return f"{reason}: {row.advice}" if row.advice else reason


PROPOSAL_EXPORT = ExportList(
    name="proposals",
    title=_l("Contact proposals"),
    columns=(
        ExportColumn(_l("Customer"), TEXT, lambda row: row.customer.full_name),
        ExportColumn(CUSTOMER_LABELS["email"], TEXT, lambda row: row.customer.email),
        ExportColumn(_l("Plate"), TEXT, lambda row: display_plate(row.passport.plate)),
        ExportColumn(_l("Why"), TEXT, _why),
        ExportColumn(_l("Predicted visit"), DATE, lambda row: row.predicted_date),
        ExportColumn(_l("Invite?"), TEXT, lambda row: row.decision, words=DECISIONS),
    ),
)


def week_proposals(session: Session, week: str) -> Query:
    """A week's proposals (R-CP-2) in the order of its screen: by predicted visit."""
    return (
        session.query(ContactProposal)
        .filter(ContactProposal.week == week)
        .order_by(ContactProposal.predicted_date, ContactProposal.id)
    )


# --- the fleet dashboard ---------------------------------------------------------------------


def _marked(status) -> str | None:
    """A maintenance mark as the dashboard says it beside the date."""
    return str(DUE_WORDS[status]) if status else None


def _advice_words(row) -> str | None:
    """The advice as the dashboard row shows it: the items and the form they are from."""
    if not row.advice:
        return None
    made = gettext("inspection of %(date)s", date=f"{row.advice_date:%d-%m-%Y}")
    return f"{'; '.join(row.advice)} ({made})"


def _recall_words(row) -> str | None:
    return (
        "; ".join(
            f"{recall.reference}: {recall.description}" if recall.description else recall.reference
            for recall in row.recalls
        )
        or None
    )


DUE_WORDS = {fleets.OVERDUE: _l("overdue"), fleets.DUE_SOON: _l("within 30 days")}

# The fleet dashboard's rows (services.fleets.DashboardRow), as filtered and sorted there.
FLEET_EXPORT = ExportList(
    name="fleet",
    title=_l("My AutoPassports"),
    columns=(
        ExportColumn(PASSPORT_LABELS["plate"], TEXT, lambda row: row.passport.plate_display),
        ExportColumn(PASSPORT_LABELS["brand"], TEXT, lambda row: row.car.brand.value),
        ExportColumn(PASSPORT_LABELS["model"], TEXT, lambda row: row.car.model.value),
        ExportColumn(
            PASSPORT_LABELS["driver"],
            TEXT,
            lambda row: row.passport.driver.full_name if row.passport.driver else None,
        ),
        ExportColumn(PASSPORT_LABELS["apk_expiry"], DATE, lambda row: row.car.apk_expiry.value),
        ExportColumn(_l("APK"), TEXT, lambda row: _marked(row.apk_status)),
        ExportColumn(PASSPORT_LABELS["next_service"], DATE, lambda row: row.passport.next_service),
        ExportColumn(_l("Maintenance"), TEXT, lambda row: _marked(row.service_status)),
        ExportColumn(_l("Open advice"), TEXT, lambda row: _advice_words(row)),
        ExportColumn(_l("Open recall"), TEXT, lambda row: _recall_words(row)),
        ExportColumn(
            PASSPORT_LABELS["state"],
            TEXT,
            lambda row: row.passport.state,
            words=PASSPORT_STATE_LABELS,
        ),
    ),
)


# --- passports with an open recall (issue 18) ------------------------------------------------

RECALL_LABELS = {
    "reference": _l("RDW reference"),
    "description": _l("What is wrong"),
    "remedy": _l("Remedy"),
    "consequences": _l("Possible consequences"),
    "published_on": _l("Published"),
}


def _person(row) -> str | None:
    return " ".join(part for part in (row.first_name, row.infix, row.last_name) if part) or None


# One line per open recall (recalls.with_each_open_recall), in the screen's order.
RECALL_EXPORT = ExportList(
    name="recalls",
    title=_l("Open recalls"),
    columns=(
        ExportColumn(PASSPORT_LABELS["plate"], TEXT, lambda row: display_plate(row.plate)),
        ExportColumn(PASSPORT_LABELS["brand"], TEXT, counted_in_row("brand")),
        ExportColumn(PASSPORT_LABELS["model"], TEXT, counted_in_row("model")),
        ExportColumn(PASSPORT_LABELS["owner_name"], TEXT, _person),
        ExportColumn(CUSTOMER_LABELS["email"], TEXT, lambda row: row.email),
        ExportColumn(CUSTOMER_LABELS["phone"], TEXT, lambda row: row.phone),
        ExportColumn(RECALL_LABELS["reference"], TEXT, lambda row: row.reference),
        ExportColumn(RECALL_LABELS["description"], TEXT, lambda row: row.defect),
        ExportColumn(RECALL_LABELS["remedy"], TEXT, lambda row: row.remedy),
        ExportColumn(RECALL_LABELS["consequences"], TEXT, lambda row: row.consequences),
        ExportColumn(RECALL_LABELS["published_on"], DATE, lambda row: row.published_on),
    ),
    rows=recalls.with_each_open_recall,
)


# --- the audit log and the outbox ------------------------------------------------------------


def _described(entry: AuditLog):
    """The entry in words, as the log's screen shows it (in the request's language):
    made once per entry and kept on it for the row's other columns."""
    from admin_app.services.audit import describe_entries

    described = entry.__dict__.get(_DESCRIBED)
    if described is None:
        session = object_session(entry)
        assert session is not None, "an entry read from the log belongs to a session"
        (described,) = describe_entries(session, [entry], str(get_locale()))
        entry.__dict__[_DESCRIBED] = described
    return described


_DESCRIBED = "_export_described"


AUDIT_LOG_EXPORT = ExportList(
    name="audit_log",
    title=_l("Audit log"),
    columns=(
        ExportColumn(_l("When"), DATETIME, lambda row: row.at),
        ExportColumn(_l("Who"), TEXT, lambda row: _described(row).who),
        ExportColumn(_l("What"), TEXT, lambda row: _described(row).what),
        ExportColumn(_l("Record"), TEXT, lambda row: _described(row).subject),
        ExportColumn(_l("Changes (old → new)"), TEXT, lambda row: _described(row).changes_text),
    ),
)

# Never the body or the parameters: they hold the customers' access links.
OUTBOX_EXPORT = ExportList(
    name="outbox",
    title=_l("Outbox"),
    columns=(
        ExportColumn(_l("Created"), DATETIME, lambda row: row.created_at),
        ExportColumn(_l("Recipient"), TEXT, lambda row: row.recipient),
        ExportColumn(_l("Kind"), TEXT, lambda row: row.kind, words=MAIL_KIND_LABELS),
        ExportColumn(_l("Subject"), TEXT, lambda row: row.subject_text()),
        ExportColumn(_l("State"), TEXT, lambda row: row.state, words=MAIL_STATE_LABELS),
        ExportColumn(_l("Attempts"), NUMBER, lambda row: row.attempts),
        ExportColumn(_l("Last error"), TEXT, lambda row: row.last_error),
        ExportColumn(_l("Sent"), DATETIME, lambda row: row.sent_at),
    ),
)


# --- the screens that are not FAB's lists, for a worker ---------------------------------------


def _job_rows(session: Session, arguments: dict[str, str]) -> Query:
    from admin_app.scope import scoped_get
    from admin_app.services.batch_jobs import job_rows_query

    job = scoped_get(session, BatchJob, int(arguments["job"]))
    if job is None:  # gone, or out of scope since the request: no rows rather than others'
        return session.query(BatchRow).filter(false())
    return job_rows_query(session, job, outcome=arguments.get("outcome") or None)


# By export name: the list and its query from the arguments the request stored. A large
# Excel file's worker reruns exactly these (jobs/exports.py); FAB's list screens are rerun
# through their view's filters instead, and are not here.
SCREEN_QUERIES: dict[str, tuple[ExportList, Callable[[Session, dict[str, str]], Query]]] = {
    BATCH_ROW_EXPORT.name: (BATCH_ROW_EXPORT, _job_rows),
    INSPECTION_FORM_EXPORT.name: (
        INSPECTION_FORM_EXPORT,
        lambda session, arguments: inspection_forms(session, drafts=arguments.get("drafts") == "1"),
    ),
    INVOICE_EXPORT.name: (INVOICE_EXPORT, lambda session, arguments: invoices(session)),
    PROPOSAL_EXPORT.name: (
        PROPOSAL_EXPORT,
        lambda session, arguments: week_proposals(session, arguments["week"]),
    ),
}
