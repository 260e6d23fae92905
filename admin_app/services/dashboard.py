"""What each role's home page shows. Queries run under the caller's row scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models import Customer, FleetAccount, Garage, OutboxMessage, Passport
from admin_app.models.passports import STATE_LABELS, PassportState


def passport_counts(session: Session) -> list[tuple[str, str, int]]:
    """(state, label, count) for every state, zeros included."""
    counts = dict(
        session.execute(select(Passport.state, func.count()).group_by(Passport.state)).all()
    )
    return [(s.value, str(STATE_LABELS[s.value]), counts.get(s.value, 0)) for s in PassportState]


def bounced_count(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Passport)
        .join(Customer, Passport.owner_id == Customer.id)
        .where(Customer.email_bounced_at.is_not(None), Passport.state != "archived")
    )


def fleet_accounts_with_counts(session: Session) -> list[tuple[FleetAccount, int]]:
    linked = (
        select(Passport.fleet_account_id, func.count().label("n"))
        .where(Passport.fleet_account_id.is_not(None))
        .group_by(Passport.fleet_account_id)
        .subquery()
    )
    rows = session.execute(
        select(FleetAccount, func.coalesce(linked.c.n, 0))
        .outerjoin(linked, linked.c.fleet_account_id == FleetAccount.id)
        .order_by(FleetAccount.name)
    ).all()
    return [(fleet, n) for fleet, n in rows]


def linked_passports(session: Session, limit: int = 200) -> list[Passport]:
    return (
        session.scalars(
            select(Passport)
            .where(Passport.state != "archived")
            .order_by(Passport.plate)
            .limit(limit)
        )
        .unique()
        .all()
    )


def platform_counts(session: Session) -> dict[str, int]:
    return {
        "garages": session.scalar(select(func.count()).select_from(Garage)),
        "passports": session.scalar(select(func.count()).select_from(Passport)),
        "customers": session.scalar(select(func.count()).select_from(Customer)),
        "mail_waiting": session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state.in_(["pending", "sending"]))
        ),
        "mail_failed": session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state.in_(["failed", "bounced"]))
        ),
    }
