"""A garage's invoices (R-CP-1): uploaded as a file from its management system or sent one
by one through the API, each stored once, and linked to its customer. They feed the
next-visit prediction and the conversion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.domain.money import cents
from admin_app.domain.plates import normalize_plate, side_code
from admin_app.models import Customer, Invoice, Passport
from admin_app.models.base import utcnow
from admin_app.models.passports import PassportState
from admin_app.roles import GARAGE
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import Actor

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
    from admin_app.services.tables import header_aliases, match_columns, read_table

    garage_id = _garage_of(actor)
    table = read_table(filename, data)
    if not table:
        raise InvalidInput(_l("The file is empty."), field="file")
    mapping = match_columns(table[0], header_aliases(INVOICE_HEADERS))
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
        stored = _stored_invoice(session, garage_id, values)
        if stored is None:
            raise
        return stored, False
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
