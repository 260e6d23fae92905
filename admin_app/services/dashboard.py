"""What each role's home page shows: what waits, counted exactly.

Every query runs under the caller's row scope (admin_app.scope adds the tenant criteria
to each statement), so a garage counts only its own rows and Support counts every
garage's. Each count has its list: the home page links to a list that shows exactly the
rows counted, so the functions below are also what those lists filter by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from admin_app.db import count_of
from admin_app.models import (
    BatchJob,
    ContactProposal,
    Customer,
    FleetAccount,
    Garage,
    InspectionForm,
    InspectionInvitation,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.batch_jobs import BatchState
from admin_app.models.outbox import OutboxState
from admin_app.models.passports import STATE_LABELS, PassportState
from admin_app.models.transfers import TransferState
from admin_app.services import proposals, recalls

# Batch jobs a garage watches: its list waiting for its confirmation (R-BJ-2: nothing
# happens until someone confirms or cancels it), being read, or being run (R-X-3).
ACTIVE_BATCH_STATES = (
    BatchState.preview.value,
    BatchState.previewing.value,
    BatchState.running.value,
)
# The oldest transfers the home page names, with their age; the rest are behind the link.
OLDEST_TRANSFERS = 5


def passport_counts(session: Session) -> list[tuple[str, str, int]]:
    """(state, label, count) for every state, zeros included."""
    counts = dict(
        session.execute(select(Passport.state, func.count()).group_by(Passport.state))
        .tuples()
        .all()
    )
    return [(s.value, str(STATE_LABELS[s.value]), counts.get(s.value, 0)) for s in PassportState]


def not_sent_count(session: Session) -> int:
    """Passports nobody sent yet (R-PP-4): a stock car is activated at once, so never here."""
    return count_of(
        session, select(func.count()).select_from(Passport).where(Passport.state == "created")
    )


def bounced_count(session: Session) -> int:
    """Live passports whose owner's address the mail server refused: "Onjuiste e-mails"
    (R-BJ-7), the rows of its list."""
    return count_of(
        session,
        select(func.count())
        .select_from(Passport)
        .join(Customer, Passport.owner_id == Customer.id)
        .where(Customer.email_bounced_at.is_not(None), Passport.state != "archived"),
    )


def waiting_transfers_count(session: Session) -> int:
    """Passports waiting for their new owner to accept (R-TR-2): one pending transfer
    each (uq_transfer_one_pending), and the rows of the passport list filtered on that
    state."""
    return count_of(
        session,
        select(func.count())
        .select_from(Passport)
        .where(Passport.state == PassportState.transfer_pending.value),
    )


@dataclass(frozen=True)
class WaitingTransfer:
    transfer: Transfer
    age: dt.timedelta


def oldest_waiting_transfers(
    session: Session, now: dt.datetime, limit: int = OLDEST_TRANSFERS
) -> list[WaitingTransfer]:
    """The pending transfers that have waited longest, oldest first, with how long."""
    transfers = session.scalars(
        select(Transfer)
        .options(joinedload(Transfer.passport))  # its plate is shown: not one query each
        .where(Transfer.state == TransferState.pending.value)
        .order_by(Transfer.created_at, Transfer.id)
        .limit(limit)
    ).all()
    return [WaitingTransfer(t, max(now - t.created_at, dt.timedelta(0))) for t in transfers]


def _open_invitations(statement):
    """``statement`` (over invitations) narrowed to those without a form, of live cars."""
    answered = exists().where(InspectionForm.invitation_id == InspectionInvitation.id)
    return statement.join(Passport, Passport.id == InspectionInvitation.passport_id).where(
        ~answered, Passport.state != PassportState.archived.value
    )


def open_invitations(session: Session) -> list[InspectionInvitation]:
    """Inspection invitations no form was made for yet (R-IN-1), of cars still live,
    first registered first."""
    return list(
        session.scalars(
            _open_invitations(select(InspectionInvitation)).order_by(
                InspectionInvitation.registered_at, InspectionInvitation.id
            )
        )
    )


def open_invitations_count(session: Session) -> int:
    # select_from the model, not with_only_columns(count()) of the list's statement: a
    # statement whose only column is count() names no entity, and the row scope's loader
    # criteria then do not apply (a garage counted another garage's drafts that way).
    return session.scalar(_open_invitations(select(func.count()).select_from(InspectionInvitation)))


def draft_forms(statement=None):
    """The inspection forms still drafts, never saved (R-IN-2): ``statement`` (over
    forms, by default the forms themselves) narrowed to them."""
    return (select(InspectionForm) if statement is None else statement).where(
        InspectionForm.version == 0
    )


def draft_forms_count(session: Session) -> int:
    return session.scalar(draft_forms(select(func.count()).select_from(InspectionForm)))


@dataclass(frozen=True)
class WeekProposals:
    week: str  # ISO, "2026-W50"
    deadline: dt.datetime  # Sunday 15:00 Europe/Amsterdam before the week, aware
    count: int


def week_proposals(session: Session, now: dt.datetime) -> WeekProposals:
    """The proposals the garage can still decide on (R-CP-2): the first open week's, and
    until when."""
    week = proposals.open_week(now)
    count = count_of(
        session,
        select(func.count()).select_from(ContactProposal).where(ContactProposal.week == week),
    )
    return WeekProposals(week, proposals.deadline(week).astimezone(proposals.AMSTERDAM), count)


def active_batch_jobs(session: Session) -> list[BatchJob]:
    """Customer lists waiting for confirmation, being read or run, oldest first, with
    their progress (R-X-3)."""
    return list(
        session.scalars(
            select(BatchJob)
            .where(BatchJob.state.in_(ACTIVE_BATCH_STATES))
            .order_by(BatchJob.uploaded_at, BatchJob.id)
        ).unique()
    )


def batch_jobs_count(session: Session, state: str) -> int:
    return count_of(
        session, select(func.count()).select_from(BatchJob).where(BatchJob.state == state)
    )


def failed_mails_count(session: Session) -> int:
    """Mails the worker gave up on (R-X-1); a refused address is counted as bounced."""
    return count_of(
        session,
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.failed.value),
    )


@dataclass(frozen=True)
class GarageToDo:
    not_sent: int
    bounced: int
    waiting_transfers: int
    oldest_transfers: list[WaitingTransfer]
    open_invitations: int
    draft_forms: int
    proposals: WeekProposals
    batch_jobs: list[BatchJob]
    preview: int
    previewing: int
    running: int
    recalled: int = 0  # live passports whose car has an open recall (issue 18)


def garage_todo(session: Session, now: dt.datetime) -> GarageToDo:
    """What waits at the garage in scope, for its home page."""
    jobs = active_batch_jobs(session)
    return GarageToDo(
        not_sent=not_sent_count(session),
        bounced=bounced_count(session),
        waiting_transfers=waiting_transfers_count(session),
        oldest_transfers=oldest_waiting_transfers(session, now),
        open_invitations=open_invitations_count(session),
        draft_forms=draft_forms_count(session),
        proposals=week_proposals(session, now),
        batch_jobs=jobs,
        preview=sum(job.state == BatchState.preview.value for job in jobs),
        previewing=sum(job.state == BatchState.previewing.value for job in jobs),
        running=sum(job.state == BatchState.running.value for job in jobs),
        recalled=recalls.recalled_count(session),
    )


@dataclass(frozen=True)
class SupportToDo:
    bounced: int
    failed_batch_jobs: int
    failed_mails: int


def support_todo(session: Session) -> SupportToDo:
    """What the support desk fixes, across every garage."""
    return SupportToDo(
        bounced=bounced_count(session),
        failed_batch_jobs=batch_jobs_count(session, BatchState.failed.value),
        failed_mails=failed_mails_count(session),
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
    return list(
        session.scalars(
            select(Passport)
            .where(Passport.state != "archived")
            .order_by(Passport.plate)
            .limit(limit)
        ).unique()
    )


def platform_counts(session: Session) -> dict[str, int]:
    return {
        "garages": count_of(session, select(func.count()).select_from(Garage)),
        "passports": count_of(session, select(func.count()).select_from(Passport)),
        "customers": count_of(session, select(func.count()).select_from(Customer)),
        "mail_waiting": count_of(
            session,
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state.in_(["pending", "sending"])),
        ),
        "mail_failed": count_of(
            session,
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state.in_(["failed", "bounced"])),
        ),
    }
