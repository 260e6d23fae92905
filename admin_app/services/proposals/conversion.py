"""Conversion (R-CP-4): per week, how many invited customers were invoiced within 8 weeks,
and for how much; on screen and as a spreadsheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from admin_app.models import ContactProposal, Invoice
from admin_app.services.bulk import add_days

CONVERSION_DAYS = 8 * 7


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
