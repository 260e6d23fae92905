"""Invoices, next-visit prediction and the weekly contact proposals (R-CP-1…4).

The week of a proposal is the ISO week of the predicted visit. Its list is made on the
Monday 06:00 (Europe/Amsterdam) of the week before, worked on by the garage that week, and
closes on the Sunday 15:00 before the visits' week: then the "yes" invitations go out, so
each arrives before its visit. Everything that runs over all garages is set-based SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.schema import CreateTable

from admin_app.domain.clock import AMSTERDAM
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.domain.money import cents, euro
from admin_app.domain.plates import display_plate, normalize_plate, side_code
from admin_app.models import (
    ApkReminder,
    ContactProposal,
    Customer,
    Garage,
    Invoice,
    Passport,
    WeeklyRun,
)
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.passports import PassportState
from admin_app.roles import GARAGE
from admin_app.scope import ALL_TENANTS
from admin_app.services import vehicle_values
from admin_app.services.audit import Actor, get_actor, record_select
from admin_app.services.bounces import is_bounced
from admin_app.services.bulk import add_days, days_between, is_postgresql, json_changes, json_pair
from admin_app.services.emails import email_key
from admin_app.services.mails import greeted
from admin_app.services.outbox import queue_mail
from admin_app.services.tokens import peek_token

RUN_WEEKDAY, RUN_HOUR = 0, 6  # Monday 06:00: the list for next week is made
CLOSE_HOUR = 15  # Sunday 15:00 before the visits' week: the list closes
QUIET_DAYS = 8 * 7  # invoiced or invited in the last 8 weeks: not proposed
# The invitation's opt-out link acts on its customer row for a year (R-CP-2).
OPT_OUT = "opt_out"
OPT_OUT_TTL = dt.timedelta(days=365)
CONVERSION_DAYS = 8 * 7

# The next-visit prediction (R-CP-1): the mean interval between the vehicle's last four
# maintenance invoices — recent habits count, a long-ago gap (a car abroad, an earlier
# owner) stops counting after four visits — kept within 4 months and 2 years; one
# maintenance invoice alone gives a year. The visit is the next service or the APK
# expiry, whichever comes first. One aggregate per vehicle: the same SQL on PostgreSQL
# and SQLite, and cheap for a million vehicles.
RECENT_VISITS = 4
DEFAULT_INTERVAL_DAYS = 365
MIN_INTERVAL_DAYS, MAX_INTERVAL_DAYS = 120, 730


# --- weeks ---------------------------------------------------------------------------------


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> dt.date:
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week or "")
    if not match:
        raise InvalidInput(_l("A week is written like 2026-W49."), field="week")
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(_l("A week is written like 2026-W49."), field="week") from None


def deadline(week: str) -> dt.datetime:
    """Sunday 15:00 Europe/Amsterdam before the week, in UTC (summer and winter time)."""
    sunday = week_monday(week) - dt.timedelta(days=1)
    return dt.datetime.combine(sunday, dt.time(CLOSE_HOUR), tzinfo=AMSTERDAM).astimezone(dt.UTC)


def is_closed(week: str, now: dt.datetime) -> bool:
    return now >= deadline(week)


def proposal_week(now: dt.datetime) -> str:
    """The week whose list is made by the run due at ``now``: the next ISO week."""
    local = now.astimezone(AMSTERDAM).date()
    return iso_week(local + dt.timedelta(days=7))


def run_due_at(week: str) -> dt.datetime:
    """Monday 06:00 Amsterdam of the week before ``week``."""
    monday = week_monday(week) - dt.timedelta(days=7)
    return dt.datetime.combine(monday, dt.time(RUN_HOUR), tzinfo=AMSTERDAM).astimezone(dt.UTC)


def open_week(now: dt.datetime) -> str:
    """The first week whose list can still be changed at ``now``."""
    week = iso_week(now.astimezone(AMSTERDAM).date() + dt.timedelta(days=7))
    return week if not is_closed(week, now) else iso_week(week_monday(week) + dt.timedelta(days=7))


# --- invoices ------------------------------------------------------------------------------

KINDS = {
    "onderhoud": "maintenance",
    "maintenance": "maintenance",
    "service": "maintenance",
    "beurt": "maintenance",
    "apk": "apk",
    "reparatie": "repair",
    "repair": "repair",
}
INVOICE_HEADERS = {
    "invoice_number": ("factuurnummer", "invoice number"),
    "invoice_date": ("factuurdatum", "datum", "invoice date", "date"),
    "plate": ("kenteken", "plate", "licence plate", "license plate"),
    "customer_number": ("klantnummer", "customer number"),
    "amount": ("bedrag", "amount", "totaal", "total"),
    "kind": ("soort", "kind", "type"),
}
OPTIONAL_INVOICE_COLUMNS = {"invoice_number", "customer_number"}
MAX_INVOICE_CENTS = 100_000_000  # € 1.000.000,00
MAX_INVOICE_CELL = Invoice.__table__.c.customer_number.type.length
# Stored invoice numbers are looked up this many at a time: well under the bound
# parameters either database takes in one statement.
NUMBER_LOOKUP_CHUNK = 5_000


def parse_amount(text) -> int:
    """An invoice amount in cents (credit notes are negative)."""
    amount = cents(text, field="amount")
    if abs(amount) > MAX_INVOICE_CENTS:
        raise InvalidInput(_l("That amount is too high for an invoice."), field="amount")
    return amount


def _number_cell(value) -> str | None:
    """A customer or invoice number as typed; Excel reads 100001 as the float 100001.0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()[:40] or None


def _invoice_values(raw: dict) -> dict:
    """One invoice checked: InvalidInput naming what is wrong."""
    from admin_app.domain.dates import date_field

    plate = normalize_plate(raw.get("plate"))
    if len(plate) != 6 or side_code(plate) is None:
        raise InvalidInput(
            _l("'%(plate)s' is not a Dutch licence plate.", plate=raw.get("plate") or ""),
            field="plate",
        )
    day = date_field(raw.get("invoice_date"), "invoice_date")
    kind = KINDS.get(str(raw.get("kind") or "").strip().lower())
    if kind is None:
        raise InvalidInput(
            _l("Kind must be onderhoud, APK or reparatie, not '%(kind)s'.", kind=raw.get("kind")),
            field="kind",
        )
    return {
        "invoice_number": _number_cell(raw.get("invoice_number")),
        "invoice_date": day,
        "plate": plate,
        "customer_number": _number_cell(raw.get("customer_number")),
        "amount_cents": parse_amount(raw.get("amount")),
        "kind": kind,
    }


# An invoice without a number is the same invoice again when all of these are equal.
IDENTITY = ("invoice_date", "plate", "customer_number", "amount_cents", "kind")


def _identity(values: dict) -> tuple:
    return tuple(values[name] for name in IDENTITY)


@dataclass
class InvoiceImport:
    created: int
    unchanged: int
    total_cents: int  # of the file's accepted rows, new and unchanged
    refused: list[tuple[int, str]]


def import_invoices(session: Session, *, filename: str, data: bytes, actor: Actor) -> InvoiceImport:
    """An invoice export (CSV or XLSX, read like customer lists). Invoices not stored yet
    are added, the ones already there are counted unchanged (so the same file twice
    adds nothing), refused rows are reported with their sheet row number and reason."""
    from admin_app.services.customer_lists import _key, match_columns, read_table

    garage_id = _garage_of(actor)
    table = read_table(filename, data)
    if not table:
        raise InvalidInput(_l("The file is empty."), field="file")
    aliases = {_key(name): column for column, names in INVOICE_HEADERS.items() for name in names}
    mapping = match_columns(table[0], aliases)
    _require_invoice_columns(mapping)
    rows, refused = _checked_invoice_rows(table[1:], mapping)
    new, numbered_now = _not_stored_yet(session, garage_id, rows)
    _store_invoices(session, garage_id, new, numbered_now)
    if new:
        _link_customers(session, garage_id)
    return InvoiceImport(
        created=len(new),
        unchanged=len(rows) - len(new),
        total_cents=sum(values["amount_cents"] for values in rows),
        refused=refused,
    )


def _require_invoice_columns(mapping: dict[int, str]) -> None:
    """The whole file is refused when a column every invoice needs has no header."""
    missing = [
        c
        for c in INVOICE_HEADERS
        if c not in mapping.values() and c not in OPTIONAL_INVOICE_COLUMNS
    ]
    if missing:
        raise InvalidInput(
            _l(
                "The invoice file lacks the column(s): %(columns)s.",
                columns=", ".join(INVOICE_HEADERS[c][0] for c in missing),
            ),
            field="file",
        )


def _sheet_rows(body: list, mapping: dict[int, str]) -> Iterator[tuple[int, dict]]:
    """The file's filled rows under the header, each with its row number as the sheet
    counts it (the header is row 1) and its cells by invoice column."""
    for offset, cells in enumerate(body):
        raw = {column: cells[i] if i < len(cells) else None for i, column in mapping.items()}
        if any(value not in (None, "") for value in raw.values()):
            yield offset + 2, raw


def _checked_invoice_rows(
    body: list, mapping: dict[int, str]
) -> tuple[list[dict], list[tuple[int, str]]]:
    """The file's invoices checked row by row: the accepted values, and the refused rows
    with their sheet row number and the reason."""
    rows, refused = [], []
    row_of_number: dict[str, int] = {}
    for row_number, raw in _sheet_rows(body, mapping):
        try:
            values = _checked_invoice_row(raw, row_of_number)
        except InvalidInput as error:
            refused.append((row_number, str(error.message)))
            continue
        if values["invoice_number"] is not None:
            row_of_number[values["invoice_number"]] = row_number
        rows.append(values)
    return rows, refused


def _checked_invoice_row(raw: dict, row_of_number: dict[str, int]) -> dict:
    """One row of the file as an invoice; InvalidInput naming why it is refused."""
    # Every invoice cell is short (the customer number, 40, is the longest): a longer
    # one is refused with its row, and its text is not repeated in the reason (issue 13).
    long = next((c for c, v in raw.items() if len(str(v or "")) > MAX_INVOICE_CELL), None)
    if long:
        raise InvalidInput(
            _l(
                "'%(column)s' is longer than %(length)s characters.",
                column=INVOICE_HEADERS[long][0],
                length=MAX_INVOICE_CELL,
            )
        )
    values = _invoice_values(raw)
    number = values["invoice_number"]
    if number is not None and number in row_of_number:
        # One number is one invoice: which of two rows would count is a guess.
        raise InvalidInput(
            _l(
                "Invoice number %(number)s is already on row %(row)s.",
                number=number,
                row=row_of_number[number],
            )
        )
    return values


def _store_invoices(
    session: Session, garage_id: int, new: list[dict], numbered_now: dict[int, str]
) -> None:
    """Add the new invoices and give the stored ones without a number theirs, all or
    nothing; Conflict when another upload stored the same numbers meanwhile."""
    try:
        with session.begin_nested():
            if numbered_now:
                session.execute(
                    update(Invoice.__table__)
                    .where(Invoice.__table__.c.id == bindparam("stored_id"))
                    .values(invoice_number=bindparam("number")),
                    [{"stored_id": i, "number": n} for i, n in numbered_now.items()],
                )
            if new:
                now = utcnow()
                session.execute(
                    insert(Invoice.__table__),
                    [{**values, "garage_id": garage_id, "created_at": now} for values in new],
                )
    except IntegrityError:
        # The same numbers stored by an upload that committed while this one read.
        raise Conflict(
            _l("These invoices were just uploaded by someone else; upload the file again.")
        ) from None


def _not_stored_yet(
    session: Session, garage_id: int, rows: list[dict]
) -> tuple[list[dict], dict[int, str]]:
    """The rows that are not one of the garage's stored invoices, in a few queries for the
    whole file, and the stored invoices without a number that a numbered row of the file
    is (id → its number).

    A row with a number is stored when its number is. A row without one counts repeats:
    the n-th identical row of the file is the n-th identical stored invoice without a
    number (a garage may bill the same car twice in a day). A numbered row whose number
    is new but whose values are those of a stored invoice without a number (uploaded
    before the export had numbers) is that invoice: it gets the number, not a twin."""
    numbers = [values["invoice_number"] for values in rows if values["invoice_number"]]
    stored_numbers = _stored_numbers(session, garage_id, numbers)
    to_match = [
        values
        for values in rows
        if not values["invoice_number"] or values["invoice_number"] not in stored_numbers
    ]
    unnumbered = _stored_without_number(session, garage_id, to_match)
    return _match_unnumbered(to_match, unnumbered)


def _stored_numbers(session: Session, garage_id: int, numbers: list[str]) -> set[str]:
    """Which of these invoice numbers the garage has stored."""
    stored: set[str] = set()
    for start in range(0, len(numbers), NUMBER_LOOKUP_CHUNK):
        stored.update(
            session.scalars(
                select(Invoice.invoice_number).where(
                    Invoice.garage_id == garage_id,
                    Invoice.invoice_number.in_(numbers[start : start + NUMBER_LOOKUP_CHUNK]),
                )
            )
        )
    return stored


def _stored_without_number(
    session: Session, garage_id: int, rows: list[dict]
) -> dict[tuple, list[int]]:
    """The garage's stored invoices without a number in the rows' date range, by their
    identity, oldest id first."""
    unnumbered: dict[tuple, list[int]] = {}
    if not rows:
        return unnumbered
    days = [values["invoice_date"] for values in rows]
    for row in session.execute(
        select(Invoice.id, *(getattr(Invoice, name) for name in IDENTITY))
        .where(
            Invoice.garage_id == garage_id,
            Invoice.invoice_number.is_(None),
            Invoice.invoice_date.between(min(days), max(days)),
        )
        .order_by(Invoice.id)
    ):
        unnumbered.setdefault(tuple(row[1:]), []).append(row[0])
    return unnumbered


def _match_unnumbered(
    rows: list[dict], unnumbered: dict[tuple, list[int]]
) -> tuple[list[dict], dict[int, str]]:
    """Each row takes the next stored invoice without a number that it is, rows without a
    number first (the n-th of them takes the n-th stored one); the rows left are new.
    Returns the new rows and the stored invoices a numbered row gave its number."""
    created, numbered_now = set(), {}
    for numbered in (False, True):
        for index, values in enumerate(rows):
            if bool(values["invoice_number"]) != numbered:
                continue
            same = unnumbered.get(_identity(values))
            if not same:
                created.add(index)
            elif numbered:
                numbered_now[same.pop(0)] = values["invoice_number"]
            else:
                same.pop(0)
    new = [values for index, values in enumerate(rows) if index in created]
    return new, numbered_now


def _stored_invoice(session: Session, garage_id: int, values: dict) -> Invoice | None:
    """The garage's stored invoice that ``values`` describes: by its number, or else by
    its date, plate, customer number, amount and kind among the invoices stored without
    a number (the first of identical ones), which then gets the number if ``values``
    has one (it was sent before the management system sent numbers)."""
    number = values["invoice_number"]
    if number:
        stored = session.scalars(
            select(Invoice).where(Invoice.garage_id == garage_id, Invoice.invoice_number == number)
        ).first()
        if stored is not None:
            return stored
    stored = session.scalars(
        select(Invoice)
        .where(
            Invoice.garage_id == garage_id,
            Invoice.invoice_number.is_(None),
            *(getattr(Invoice, name).is_not_distinct_from(values[name]) for name in IDENTITY),
        )
        .order_by(Invoice.id)
        .limit(1)
    ).first()
    if stored is not None and number:
        stored.invoice_number = number
        session.flush()
    return stored


def create_invoice(session: Session, *, actor: Actor, values: dict) -> tuple[Invoice, bool]:
    """One invoice through the API: (the invoice, whether it is new). An invoice the
    garage sent before is not added again; the stored one is returned."""
    garage_id = _garage_of(actor)
    values = _invoice_values(values)
    try:
        with session.begin_nested():
            stored = _stored_invoice(session, garage_id, values)
            if stored is not None:
                return stored, False
            invoice = Invoice(garage_id=garage_id, **values)
            session.add(invoice)
    except IntegrityError:
        # The same number sent twice at once: the other request stored it.
        return _stored_invoice(session, garage_id, values), False
    _link_customers(session, garage_id)
    session.refresh(invoice)
    return invoice, True


def _garage_of(actor: Actor) -> int:
    if not actor.has(GARAGE) or not actor.garage_id:
        raise Forbidden(_l("Only a garage adds its invoices."))
    return actor.garage_id


def _link_customers(session: Session, garage_id: int) -> None:
    """Invoices without a customer get one: by customer number, else the plate's owner."""
    by_number = (
        select(func.min(Customer.id))
        .where(
            Customer.garage_id == garage_id,
            Customer.customer_number == Invoice.customer_number,
        )
        .scalar_subquery()
    )
    by_plate = (
        select(Passport.owner_id)
        .where(
            Passport.garage_id == garage_id,
            Passport.plate == Invoice.plate,
            Passport.state != PassportState.archived.value,
        )
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(Invoice)
        .where(Invoice.garage_id == garage_id, Invoice.customer_id.is_(None))
        .values(customer_id=func.coalesce(by_number, by_plate))
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    )


# --- prediction (R-CP-1) -------------------------------------------------------------------


def predict_next_service(maintenance_dates: list[dt.date]) -> dt.date | None:
    """The rule of the SQL in ``update_next_service``, in Python (for tests and reading)."""
    if not maintenance_dates:
        return None
    recent = sorted(maintenance_dates)[-RECENT_VISITS:]
    if len(recent) == 1:
        interval = DEFAULT_INTERVAL_DAYS
    else:
        interval = (recent[-1] - recent[0]).days // (len(recent) - 1)
        interval = min(max(interval, MIN_INTERVAL_DAYS), MAX_INTERVAL_DAYS)
    return recent[-1] + dt.timedelta(days=interval)


def predicted_visit(next_service: dt.date | None, apk_expiry: dt.date | None) -> dt.date | None:
    known = [d for d in (next_service, apk_expiry) if d]
    return min(known) if known else None


# The dates a run changes, staged once: their audit rows and the UPDATE are both written
# from here, so the window-ranked aggregate over every invoice runs once (a first run
# changes a million dates, each with its audit row, R-SEC-2).
NEXT_SERVICE_PLAN = Table(
    "next_service_plan",
    MetaData(),
    Column("passport_id", Integer, primary_key=True, autoincrement=False),
    Column("garage_id", Integer),
    Column("old", Date),
    Column("new", Date),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


def update_next_service(session: Session, garage_id: int | None = None) -> int:
    """Every live passport's next service date from its garage's maintenance invoices
    (a garage's, or all), set-based, with one audit row per changed passport. Returns
    how many changed."""
    ranked = select(
        Invoice.garage_id,
        Invoice.plate,
        Invoice.invoice_date,
        func.row_number()
        .over(
            partition_by=(Invoice.garage_id, Invoice.plate),
            order_by=Invoice.invoice_date.desc(),
        )
        .label("rank"),
    ).where(Invoice.kind == "maintenance")
    if garage_id is not None:
        ranked = ranked.where(Invoice.garage_id == garage_id)
    ranked = ranked.subquery()
    visits = (
        select(
            ranked.c.garage_id,
            ranked.c.plate,
            func.count().label("visits"),
            func.min(ranked.c.invoice_date).label("first"),
            func.max(ranked.c.invoice_date).label("last"),
        )
        .where(ranked.c.rank <= RECENT_VISITS)
        .group_by(ranked.c.garage_id, ranked.c.plate)
        .subquery()
    )
    # Floor division, as in Python: SQLAlchemy's "/" would divide as decimals.
    mean = days_between(session, visits.c.last, visits.c.first) // (visits.c.visits - 1)
    interval = case(
        (visits.c.visits == 1, DEFAULT_INTERVAL_DAYS),
        (mean < MIN_INTERVAL_DAYS, MIN_INTERVAL_DAYS),
        (mean > MAX_INTERVAL_DAYS, MAX_INTERVAL_DAYS),
        else_=mean,
    )
    next_service = add_days(session, visits.c.last, interval)
    session.execute(CreateTable(NEXT_SERVICE_PLAN, if_not_exists=True))
    session.execute(delete(NEXT_SERVICE_PLAN))
    session.execute(
        insert(NEXT_SERVICE_PLAN)
        .from_select(
            ["passport_id", "garage_id", "old", "new"],
            select(Passport.id, Passport.garage_id, Passport.next_service, next_service).where(
                Passport.garage_id == visits.c.garage_id,
                Passport.plate == visits.c.plate,
                Passport.state != PassportState.archived.value,
                Passport.next_service.is_distinct_from(next_service),
            ),
        )
        .execution_options(**{ALL_TENANTS: True})
    )
    if is_postgresql(session):
        session.execute(text("ANALYZE next_service_plan"))  # or the joins below are a guess
    plan = NEXT_SERVICE_PLAN.c
    record_select(
        session,
        get_actor(session),
        "update",
        "passport",
        select(
            plan.passport_id,
            plan.garage_id,
            plan.passport_id,
            json_changes(session, {"next_service": json_pair(session, plan.old, plan.new)}),
        ),
        at=utcnow(),
    )
    changed = session.execute(
        update(Passport)
        .where(Passport.id == plan.passport_id)
        .values(next_service=plan.new)
        .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
    ).rowcount
    session.execute(delete(NEXT_SERVICE_PLAN))
    return changed


def _earliest(a, b):
    return case(
        (a.is_(None), b),
        (b.is_(None), a),
        (a < b, a),
        else_=b,
    )


def make_proposals(session: Session, week: str, now: dt.datetime) -> int:
    """The periodic proposals of ``week`` for every garage, in one INSERT … SELECT: the
    customers whose predicted visit falls in it, leaving out "never", a bounced address,
    anyone invoiced or invited in the last 8 weeks and any customer or car sent an APK
    reminder in the last 8 weeks (issue 18). Safe to repeat."""
    from admin_app.services.apk_reminders import apk_expiry_of

    monday = week_monday(week)
    today = now.astimezone(AMSTERDAM).date()
    since = today - dt.timedelta(days=QUIET_DAYS)
    registered, on_plate = vehicle_values.register_row(Passport)
    predicted = _earliest(Passport.next_service, apk_expiry_of(Passport, registered))
    other = aliased(ContactProposal)
    invoiced_car = exists().where(
        Invoice.garage_id == Passport.garage_id,
        Invoice.plate == Passport.plate,
        Invoice.invoice_date >= since,
    )
    invoice_of_customer = aliased(Invoice)
    invoiced_customer = exists().where(
        invoice_of_customer.garage_id == Passport.garage_id,
        invoice_of_customer.customer_id == Passport.owner_id,
        invoice_of_customer.invoice_date >= since,
    )
    invited = exists().where(
        other.customer_id == Passport.owner_id,
        other.invited_at >= now - dt.timedelta(days=QUIET_DAYS),
    )
    reminded = exists().where(
        or_(ApkReminder.customer_id == Passport.owner_id, ApkReminder.passport_id == Passport.id),
        ApkReminder.reminded_at >= now - dt.timedelta(days=QUIET_DAYS),
    )
    already = exists().where(
        other.garage_id == Passport.garage_id,
        other.week == week,
        other.passport_id == Passport.id,
        other.reason == "periodic",
    )
    source = (
        select(
            Passport.garage_id,
            literal(week),
            literal(monday),
            Passport.owner_id,
            Passport.id,
            literal("periodic"),
            predicted,
            literal("yes"),
            literal(False),
            literal(now, UTCDateTime),
        )
        .join(Customer, Customer.id == Passport.owner_id)
        .outerjoin(registered, on_plate)
        .where(
            Passport.state != PassportState.archived.value,
            Passport.stock_car.is_(False),
            Customer.never_contact.is_(False),
            Customer.email_bounced_at.is_(None),
            predicted.between(monday, monday + dt.timedelta(days=6)),
            ~invoiced_car,
            ~invoiced_customer,
            ~invited,
            ~reminded,
            ~already,
        )
    )
    result = session.execute(
        insert(ContactProposal.__table__)
        .from_select(
            [
                "garage_id",
                "week",
                "week_start",
                "customer_id",
                "passport_id",
                "reason",
                "predicted_date",
                "decision",
                "closed",
                "created_at",
            ],
            source,
        )
        .execution_options(**{ALL_TENANTS: True})
    )
    return result.rowcount


def weekly_run(session: Session, now: dt.datetime) -> int | None:
    """The Monday 06:00 run, claimed once per week by a row in weekly_run (several
    workers, restarts: a missed Monday runs when the system is back that week). The
    clock's job commits the claim with the proposals."""
    week = proposal_week(now)
    if now < run_due_at(week):
        return None
    if session.get(WeeklyRun, week) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(WeeklyRun(week=week, started_at=now))
    except IntegrityError:
        return None  # another worker claimed it
    update_next_service(session)
    made = make_proposals(session, week, now)
    run = session.get(WeeklyRun, week)
    run.finished_at, run.proposals = utcnow(), made
    session.flush()
    return made


# --- advice follow-up (R-CP-3) -------------------------------------------------------------


def propose_advice_followup(session: Session, form, now: dt.datetime) -> ContactProposal | None:
    """The advice of a form saved in week N becomes a proposal in week N+1 (or the next
    list still open), "no" unless the garage's setting says "yes"."""
    advice = form.content.get("advice") or []
    if not advice or not form.passport_id:
        return None
    passport = session.get(Passport, form.passport_id)
    if is_bounced(passport.owner):
        return None  # not proposed until the address is corrected
    week = iso_week(now.astimezone(AMSTERDAM).date() + dt.timedelta(days=7))
    if is_closed(week, now):
        week = iso_week(week_monday(week) + dt.timedelta(days=7))
    text = "; ".join(f"{a['description']} ({euro(a['price_cents'])})" for a in advice)[:1000]
    proposal = session.scalars(
        select(ContactProposal).where(
            ContactProposal.garage_id == form.garage_id,
            ContactProposal.week == week,
            ContactProposal.passport_id == passport.id,
            ContactProposal.reason == "advice",
        )
    ).first()
    if proposal is None:
        garage = session.get(Garage, form.garage_id)
        proposal = ContactProposal(
            garage_id=form.garage_id,
            week=week,
            week_start=week_monday(week),
            customer_id=passport.owner_id,
            passport_id=passport.id,
            reason="advice",
            predicted_date=week_monday(week),
            decision="yes" if garage.advice_followup_default else "no",
        )
        session.add(proposal)
    proposal.advice = text
    session.flush()
    return proposal


# --- deciding and closing (R-CP-2) ---------------------------------------------------------


def _proposals_in_scope(session: Session, proposal_ids: list) -> list[ContactProposal]:
    """The proposals in one query; NotFound when any of them is outside the caller's scope."""
    try:
        wanted = {int(pid) for pid in proposal_ids}
    except (TypeError, ValueError):
        raise NotFound(_l("Not found.")) from None
    found = session.scalars(select(ContactProposal).where(ContactProposal.id.in_(wanted))).all()
    if len(found) != len(wanted):
        raise NotFound(_l("Not found."))
    return list(found)


def decide(
    session: Session, proposal_ids: list, decision: str, *, actor: Actor, now: dt.datetime
) -> list[ContactProposal]:
    """Yes, no or never for one or many proposals; refused once their week has closed."""
    proposals = _proposals_in_scope(session, proposal_ids)  # 404 before 422
    if decision not in ("yes", "no", "never"):
        raise InvalidInput(_l("Choose yes, no or never."), field="decision")
    for proposal in proposals:
        if not (actor.has(GARAGE) and actor.garage_id == proposal.garage_id):
            raise Forbidden(_l("Only the garage decides on its proposals."))
        if proposal.closed or is_closed(proposal.week, now):
            raise Conflict(
                _l(
                    "Week %(week)s closed on Sunday at 15:00; its proposals can no longer "
                    "be changed.",
                    week=proposal.week,
                )
            )
        if decision == "yes" and is_bounced(proposal.customer):
            raise Conflict(
                _l(
                    "The e-mail address for %(plate)s was refused by the mail server: "
                    "correct it under Incorrect e-mails first.",
                    plate=display_plate(proposal.passport.plate),
                ),
                field="decision",
            )
        proposal.decision = decision
        if decision == "never":
            proposal.customer.never_contact = True
    session.flush()
    return proposals


def close_due_weeks(session: Session, now: dt.datetime) -> int:
    """Close every week whose deadline passed and send its "yes" invitations (each with
    an opt-out link) through the outbox. Returns the number of invitations; the clock's
    job commits them with the closing."""
    weeks = session.scalars(
        select(ContactProposal.week)
        .where(ContactProposal.closed.is_(False))
        .distinct()
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    sent = 0
    for week in (w for w in weeks if is_closed(w, now)):
        proposals = session.scalars(
            select(ContactProposal)
            .where(
                ContactProposal.week == week,
                ContactProposal.closed.is_(False),
                ContactProposal.decision == "yes",
            )
            .order_by(ContactProposal.id)
            .execution_options(**{ALL_TENANTS: True})
        ).all()
        invited_customers: set[int] = set()
        for proposal in proposals:
            customer = proposal.customer
            if customer.never_contact or proposal.customer_id in invited_customers:
                continue
            if is_bounced(customer):
                continue  # bounced after it was decided: withdrawn, not mailed
            _invite(session, proposal)
            invited_customers.add(proposal.customer_id)
            proposal.invited_at = now
            sent += 1
        session.execute(
            update(ContactProposal)
            .where(ContactProposal.week == week, ContactProposal.closed.is_(False))
            .values(closed=True)
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )
    session.flush()
    return sent


def _invite(session: Session, proposal: ContactProposal) -> None:
    plate = display_plate(proposal.passport.plate)
    with force_locale("nl"):
        subject = str(_l("Time for a visit with your %(plate)s?", plate=plate))
    queue_mail(
        session,
        recipient=proposal.customer.email,
        kind="invitation",
        subject=subject,
        params={"proposal_id": proposal.id},
        garage_id=proposal.garage_id,
    )


def invitation_text(session: Session, proposal: ContactProposal, *, link: str) -> str:
    """The invitation's text with its opt-out link (written at send time)."""
    garage = session.get(Garage, proposal.garage_id)
    plate = display_plate(proposal.passport.plate)
    if proposal.reason == "advice":
        why = str(_l("At the inspection we advised: %(advice)s.", advice=proposal.advice))
    else:
        why = str(
            _l(
                "By our records your car is due around %(date)s.",
                date=proposal.predicted_date.strftime("%d-%m-%Y"),
            )
        )
    return greeted(
        proposal.customer.full_name,
        _l(
            "%(why)s We gladly welcome your %(plate)s at %(garage)s; "
            "call us at %(phone)s to make an appointment.\n\n"
            "No more invitations from us? Click here:\n%(link)s\n",
            why=why,
            plate=plate,
            garage=garage.name,
            phone=garage.phone or "",
            link=link,
        ),
    )


def customer_for_opt_out(session: Session, raw: str) -> Customer:
    """The customer row an invitation's opt-out link was made for, while it is mailed at
    the same address (a year, R-CP-2). The link acts on that row only."""
    try:
        token = peek_token(session, raw, purpose=OPT_OUT)
    except InvalidInput:
        raise NotFound(_l("Not found.")) from None
    customer = session.scalars(
        select(Customer)
        .where(Customer.id == token.subject_id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if customer is None or email_key(customer.email) != email_key(token.recipient):
        raise NotFound(_l("Not found."))
    return customer


def opt_out(session: Session, raw: str) -> Customer:
    """The invitation's link: the customer is never proposed again (R-CP-2)."""
    customer = customer_for_opt_out(session, raw)
    customer.never_contact = True
    session.flush()
    return customer


# --- conversion (R-CP-4) -------------------------------------------------------------------


@dataclass(frozen=True)
class WeekConversion:
    week: str
    invited: int
    converted: int
    value_cents: int


def conversion(session: Session, *, weeks: int = 26) -> list[WeekConversion]:
    """Per week (of the caller's scope): invited customers, how many were invoiced within
    8 weeks after their invitation, and the value of those invoices."""
    invited = (
        select(
            ContactProposal.week,
            ContactProposal.garage_id,
            ContactProposal.customer_id,
            func.min(ContactProposal.invited_at).label("invited_at"),
        )
        .where(ContactProposal.invited_at.is_not(None))
        .group_by(ContactProposal.week, ContactProposal.garage_id, ContactProposal.customer_id)
        .subquery()
    )
    invited_day = func.date(invited.c.invited_at)
    followed = (
        select(
            invited.c.week,
            invited.c.customer_id,
            func.count(Invoice.id).label("invoices"),
            func.coalesce(func.sum(Invoice.amount_cents), 0).label("value"),
        )
        .select_from(invited)
        .outerjoin(
            Invoice,
            and_(
                Invoice.garage_id == invited.c.garage_id,
                Invoice.customer_id == invited.c.customer_id,
                Invoice.invoice_date >= invited_day,
                Invoice.invoice_date <= add_days(session, invited_day, CONVERSION_DAYS),
            ),
        )
        .group_by(invited.c.week, invited.c.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(
            followed.c.week,
            func.count(),
            func.sum(case((followed.c.invoices > 0, 1), else_=0)),
            func.sum(followed.c.value),
        )
        .group_by(followed.c.week)
        .order_by(followed.c.week.desc())
        .limit(weeks)
    ).all()
    return [
        WeekConversion(week, int(count), int(converted or 0), int(value or 0))
        for week, count, converted, value in reversed(rows)
    ]


def conversion_xlsx(rows: list[WeekConversion], reminders=()) -> bytes:
    """The conversion table (R-CP-4), oldest week first: counts, the share and the value as
    numbers (the value in euros with a euro format), so a spreadsheet can add them up.
    APK reminders (issue 18) are their own kind: their own columns, per week."""
    from admin_app.services.customer_lists import (
        COUNT_FORMAT,
        EURO_FORMAT,
        PERCENT_FORMAT,
        xlsx_bytes,
    )

    def share(part: int, whole: int):
        return part / whole if whole else None

    invited = {row.week: row for row in rows}
    reminded = {row.week: row for row in reminders}
    lines = [
        [
            "week",
            "uitgenodigd",
            "gefactureerd binnen 8 weken",
            "conversie",
            "waarde",
            "APK-herinneringen",
            "teruggekomen binnen 8 weken",
            "conversie herinneringen",
            "waarde herinneringen",
        ]
    ]
    for week in sorted(invited.keys() | reminded.keys()):
        line: list = [week]
        if (row := invited.get(week)) is not None:
            value = Decimal(row.value_cents) / 100
            line += [row.invited, row.converted, share(row.converted, row.invited), value]
        else:
            line += [None, None, None, None]
        if (reminder := reminded.get(week)) is not None:
            value = Decimal(reminder.value_cents) / 100
            line += [
                reminder.reminded,
                reminder.came_back,
                share(reminder.came_back, reminder.reminded),
                value,
            ]
        lines.append(line)
    return xlsx_bytes(
        lines,
        sheet_title="Conversie",
        number_formats={
            1: COUNT_FORMAT,
            2: COUNT_FORMAT,
            3: PERCENT_FORMAT,
            4: EURO_FORMAT,
            5: COUNT_FORMAT,
            6: COUNT_FORMAT,
            7: PERCENT_FORMAT,
            8: EURO_FORMAT,
        },
    )
