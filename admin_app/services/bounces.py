"""Addresses the mail server refused (R-PP-5, R-BJ-7): "onjuist" until corrected.

A bounced address is not proposed, invited or otherwise mailed for marketing until it is
corrected (services/passports clears the mark). Mails a customer asked for or needs to
keep his car (activation, password reset, transfer) are still attempted: one of them may
be the correction's proof.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import func, literal, null, select, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.models import ContactProposal, Customer, Passport
from admin_app.models.base import UTCDateTime
from admin_app.scope import ALL_TENANTS
from admin_app.services.audit import Actor, record_select
from admin_app.services.bulk import json_changes, json_pair


def mark_bounced(session: Session, address: str, *, now: dt.datetime, actor: Actor) -> int:
    """Every customer with ``address`` (any garage, any capitals) is marked bounced, with
    one audit row each, and the open proposals for them are withdrawn. A customer marked
    before keeps the date of his first bounce. Returns how many customers were marked."""
    with_address = func.lower(Customer.email) == address.strip().lower()
    newly_bounced = (with_address, Customer.email_bounced_at.is_(None))
    # Each garage hears of its own customers (issue 16); a handful of profiles per address.
    from admin_app.services import webhooks

    for customer in session.scalars(
        select(Customer).where(*newly_bounced).execution_options(**{ALL_TENANTS: True})
    ):
        webhooks.emit(
            session,
            customer.garage_id,
            "email.bounced",
            partial(_bounce_data, customer, now),
        )
    record_select(
        session,
        actor,
        "update",
        "customer",
        select(
            Customer.id,
            Customer.garage_id,
            null(),
            json_changes(
                session,
                {
                    "email_bounced_at": json_pair(
                        session, Customer.email_bounced_at, literal(now, UTCDateTime)
                    )
                },
            ),
        ).where(*newly_bounced),
        at=now,
    )
    marked = changed_rows(
        session.execute(
            update(Customer)
            .where(*newly_bounced)
            .values(email_bounced_at=now)
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )
    )
    _withdraw_open_proposals(session, select(Customer.id).where(with_address))
    return marked


def _withdraw_open_proposals(session: Session, customers) -> int:
    """The open "yes" proposals of ``customers`` (a SELECT of ids) become "no": they are
    not invited when their week closes, and the list shows them as "E-mail onjuist"
    while the address is bad (``is_bounced``). A "never" stays never."""
    return changed_rows(
        session.execute(
            update(ContactProposal)
            .where(
                ContactProposal.closed.is_(False),
                ContactProposal.decision == "yes",
                ContactProposal.customer_id.in_(customers),
            )
            .values(decision="no")
            .execution_options(synchronize_session=False, **{ALL_TENANTS: True})
        )
    )


def _bounce_data(customer: Customer, now: dt.datetime) -> dict:
    from admin_app.services import webhooks

    return {**webhooks.customer_data(customer), "email_bounced_at": now}


def is_bounced(customer: Customer | None) -> bool:
    return customer is not None and customer.email_bounced_at is not None


def invalid_email_passports(session: Session) -> list[Passport]:
    """Live passports whose owner's e-mail the mail server refused, oldest bounce first."""
    return list(
        session.scalars(
            select(Passport)
            .join(Customer, Passport.owner_id == Customer.id)
            .where(Customer.email_bounced_at.is_not(None), Passport.state != "archived")
            .order_by(Customer.email_bounced_at, Passport.id)
        ).unique()
    )
