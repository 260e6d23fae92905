"""The mails about a transfer to a new owner (R-TR-2, issue 18): the accept link, the
reminder 3 days before it expires, and the word to whoever started it when it ends.
services/transfers.py decides when; this module says to whom and what.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.clock import local_date, local_today
from admin_app.models import ConsoleUser, Garage, Passport, Transfer
from admin_app.models.base import utcnow
from admin_app.models.transfers import TransferState
from admin_app.roles import FLEET_MANAGER, GARAGE
from admin_app.scope import get_across_tenants
from admin_app.services import passports as passport_rules
from admin_app.services.audit import get_actor, record_bulk
from admin_app.services.bounces import is_bounced
from admin_app.services.mails import login_name
from admin_app.services.outbox import queue_mail

# Issue 18: the new owner is reminded once, this long before his transfer expires.
REMIND_BEFORE = timedelta(days=3)


def mail_accept(session: Session, passport: Passport, transfer: Transfer) -> None:
    """The accept link to a new owner with an Owner login (R-TR-2), in Dutch."""
    with force_locale("nl"):
        subject = str(
            _l("A car is being transferred to you: %(plate)s", plate=passport.plate_display)
        )
    queue_mail(
        session,
        recipient=transfer.to_email,
        kind="transfer_notice",
        subject=subject,
        params={"transfer_id": transfer.id},
        garage_id=passport.garage_id,
    )


def remind_transfers(session: Session, now: datetime | None = None) -> int:
    """Issue 18: a new owner whose accept link expires within 3 days is mailed once more
    (a fresh accept link, the date it expires). Once means once: each transfer is claimed
    by a conditional UPDATE of ``reminded_at``, so a second tick or a second worker finds
    it claimed and mails nothing. A receiver without an Owner login has no accept link (a
    new e-mail leaving a fleet accepts by activating, R-FL-6) and gets no reminder, nor
    does an address that bounced (R-PP-5).
    Returns the number of reminders queued."""
    now = now or utcnow()
    due = session.scalars(
        select(Transfer).where(
            Transfer.state == TransferState.pending.value,
            Transfer.kind == "owner",
            Transfer.reminded_at.is_(None),
            Transfer.expires_at > now,
            Transfer.expires_at <= now + REMIND_BEFORE,
        )
    ).all()
    reminded = 0
    for transfer in due:
        if passport_rules.owner_login(session, transfer.to_email) is None:
            continue
        if is_bounced(transfer.to_customer):
            continue  # the mail server refused the address: a reminder would bounce too
        claimed = changed_rows(
            session.execute(
                update(Transfer)
                .where(
                    Transfer.id == transfer.id,
                    Transfer.reminded_at.is_(None),
                    Transfer.state == TransferState.pending.value,
                )
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed != 1:
            continue  # another worker's tick reminded him
        record_bulk(
            session,
            get_actor(session),
            "transfer",
            [("update", transfer.id, {"reminded_at": (None, now)})],
            garage_id=transfer.garage_id,
            passport_ids={transfer.id: transfer.passport_id},
        )
        session.refresh(transfer)
        passport = get_across_tenants(session, Passport, transfer.passport_id)
        with force_locale("nl"):
            subject = str(
                _l(
                    "Reminder: accept %(plate)s before %(date)s",
                    plate=passport.plate_display,
                    date=local_date(local_today(transfer.expires_at)),
                )
            )
        queue_mail(
            session,
            recipient=transfer.to_email,
            kind="transfer_reminder",
            subject=subject,
            params={"transfer_id": transfer.id},
            garage_id=transfer.garage_id,
        )
        reminded += 1
    return reminded


def starter_to_tell(session: Session, transfer: Transfer) -> tuple[str, str] | None:
    """Who hears how a transfer ended (issue 18), as (address, name): the garage's own
    e-mail when the garage started it (a colleague, or its management system's API key);
    the fleet manager's login when he did. An owner who sold his car, or Admin, is not
    told: the issue asks it of the garage and the fleet manager."""
    if not transfer.created_by_id:
        return None
    # The transfer's own record says who started it; the login is read whatever the
    # scope of whoever (or whichever job) ends the transfer.
    starter = get_across_tenants(session, ConsoleUser, transfer.created_by_id)
    if starter is None:
        return None
    roles = {role.name for role in starter.roles}
    if FLEET_MANAGER in roles and starter.fleet_account_id and starter.email:
        return starter.email, login_name(starter)
    if GARAGE in roles and starter.garage_id == transfer.garage_id:
        garage = get_across_tenants(session, Garage, transfer.garage_id)
        if garage is not None and garage.email:
            return garage.email, garage.name
    return None


def tell_starter(session: Session, transfer: Transfer) -> None:
    """Queue the mail that tells the starter the transfer was accepted or expired."""
    starter = starter_to_tell(session, transfer)
    if starter is None:
        return
    passport = get_across_tenants(session, Passport, transfer.passport_id)
    with force_locale("nl"):
        if transfer.state == TransferState.accepted.value:
            subject = _l("Transfer of %(plate)s accepted", plate=passport.plate_display)
        else:
            subject = _l("Transfer of %(plate)s expired", plate=passport.plate_display)
        subject = str(subject)
    queue_mail(
        session,
        recipient=starter[0],
        kind=f"transfer_{transfer.state}",
        subject=subject,
        params={"transfer_id": transfer.id},
        garage_id=transfer.garage_id,
    )
