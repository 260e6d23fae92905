"""What an actor may do with a passport (R-PP-4…8, R-TR-1…5, R-FL-3): the one answer the
screens, the API and the services go by.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, Forbidden
from admin_app.models import (
    FleetAccount,
    Passport,
    Transfer,
)
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.roles import ADMIN, FLEET_MANAGER, GARAGE, OWNER, SUPPORT
from admin_app.services.audit import Actor
from admin_app.services.passports.claims import OWNER_CLAIM, holds_car
from admin_app.services.passports.lookup import pending_transfer, was_transferred

# --- what an actor may do with a passport (R-PP-4…8, R-TR-1…5, R-FL-3) ------------------
#
# One answer, with the reason for each action he may not take, for the profile (a button
# or its reason), the forms (a GET of a form not allowed goes back to the profile) and the
# services' own checks below (require): the three can no longer disagree.

ACTIONS = ("edit", "send", "transfer", "email", "link", "archive", "move", "cancel_transfer")
NOT_YOURS = _l("You may not do this.")
ARCHIVED = _l("This passport is archived.")
FLEET_LINKED = _l(
    "This car is linked to a fleet account: unlink it first, or ask the fleet manager to "
    "transfer it."
)
EMAIL_LOCKED = _l(
    "This passport is activated or was transferred: only the support desk "
    "can change the owner's e-mail now."
)


@dataclass(frozen=True)
class Refusal:
    """Why an action is not allowed. ``error`` is how a service refuses it: Forbidden when
    the actor's role never may (the profile shows no button and no reason), Conflict when
    it may, only not to this passport now (the profile shows the reason)."""

    reason: object  # a lazily translated message
    error: type = Conflict

    @property
    def for_this_passport(self) -> bool:
        return self.error is not Forbidden

    def refuse(self):
        raise self.error(self.reason)


def allowed_actions(session: Session, actor: Actor, passport: Passport) -> dict:
    """Each of ACTIONS → None when ``actor`` may take it on ``passport`` now, else its
    Refusal. The passport is one in the actor's scope."""
    return {action: _RULES[action](session, actor, passport) for action in ACTIONS}


def refusal_of(session: Session, actor: Actor, passport: Passport, action: str):
    """The Refusal of one of ACTIONS, or None when it is allowed."""
    return _RULES[action](session, actor, passport)


def require(session: Session, actor: Actor, passport: Passport, action: str) -> None:
    """Raise the action's refusal, if it has one."""
    refusal = refusal_of(session, actor, passport, action)
    if refusal is not None:
        refusal.refuse()


def _why_not_edit(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """R-PP-1: the garage that holds the passport, and Admin, change the car's and its
    owner's details. Support corrects e-mail addresses only (SPEC roles); fleet managers
    and owners read."""
    if not (actor.has(ADMIN) or (actor.has(GARAGE) and actor.garage_id == passport.garage_id)):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    return None


def _why_not_send(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if not actor.has(GARAGE, SUPPORT, ADMIN):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)  # not "not activated yet": it may never have been
    if passport.state not in (PassportState.created.value, PassportState.sent.value):
        return Refusal(_l("Only a passport that is not activated yet can be sent."))
    return None


def _why_not_transfer(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """To a new owner, or a fleet car to a new driver: the garage its stock cars, the
    fleet manager his fleet's cars, the owner the car he holds (R-TR-1, R-TR-4, R-FL-5)."""
    who = _who_may_transfer(session, actor, passport)
    if who is not None and not who.for_this_passport:
        return who
    # What became of the car says more than who may transfer it: archived, or a transfer
    # waiting (it is no stock car meanwhile).
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    if passport.state == PassportState.transfer_pending.value:
        return Refusal(_l("A transfer of this car is already waiting for acceptance."))
    if who is not None:
        return who
    if passport.state not in (PassportState.activated.value, PassportState.sent.value):
        return Refusal(_l("Only an active passport can be transferred."))
    return None


def _who_may_transfer(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if passport.fleet_account_id:
        if not actor.has(GARAGE, FLEET_MANAGER, OWNER):
            # Support and Admin never transfer: no reason to show, as on any other car.
            return Refusal(_l("You may not transfer this car."), Forbidden)
        if not (actor.has(FLEET_MANAGER) and actor.fleet_account_id == passport.fleet_account_id):
            return Refusal(FLEET_LINKED)
    elif actor.has(GARAGE) and actor.garage_id == passport.garage_id:
        if not passport.stock_car:
            return Refusal(
                _l(
                    "A garage transfers its stock cars only; the owner transfers "
                    "his own car from “my vehicles” when he sells it."
                )
            )
    elif not (actor.has(OWNER) and holds_car(session, passport.id, actor.id, OWNER_CLAIM)):
        return Refusal(_l("You may not transfer this car."), Forbidden)
    return None


def _why_not_email(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """R-PP-7: the garage until activation or a transfer, Support (and Admin) always."""
    supports = actor.has(SUPPORT, ADMIN)
    if not supports and not (actor.has(GARAGE) and actor.garage_id == passport.garage_id):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    if not supports and email_locked(session, passport):
        return Refusal(EMAIL_LOCKED)
    return None


def _why_not_link(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """R-FL-3: the garage links its activated cars to its fleet accounts."""
    if not (actor.has(GARAGE) and actor.garage_id == passport.garage_id):
        return Refusal(
            _l("Only the garage of this passport manages its fleet accounts."), Forbidden
        )
    if passport.state != PassportState.activated.value:
        return Refusal(_l("Only an activated passport can be linked to a fleet account."))
    if session.scalar(
        select(FleetAccount.id).where(FleetAccount.manager_passport_id == passport.id)
    ):
        return Refusal(_l("The fleet manager's own passport is not linked to a fleet."))
    return None


def _why_not_archive(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if not actor.has(GARAGE, ADMIN):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(_l("This passport is archived already."))
    return None


def _why_not_move(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if not actor.has(SUPPORT, ADMIN):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    # A waiting transfer stays with this garage and restores this garage's customer as the
    # owner: moved, the new garage could not cancel it and its expiry crossed garages.
    if pending_transfer(session, passport) is not None:
        return Refusal(
            _l("A transfer of this car is waiting: cancel it first, or wait until it is accepted.")
        )
    return None


def _why_not_cancel_transfer(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    transfer = pending_transfer(session, passport)
    if transfer is None:
        return Refusal(_l("No transfer of this car is waiting."))
    return why_not_cancel(actor, transfer)


def why_not_cancel(actor: Actor, transfer: Transfer) -> Refusal | None:
    """A waiting transfer (in the actor's scope) is cancelled by the garage, Support,
    Admin, the fleet manager, or the owner who started it (R-TR-2)."""
    if transfer.state != TransferState.pending.value:
        return Refusal(_l("Only a transfer that is waiting can be cancelled."))
    staff = actor.has(GARAGE, ADMIN, SUPPORT, FLEET_MANAGER)
    if not staff and not (actor.has(OWNER) and transfer.created_by_id == actor.id):
        return Refusal(_l("Only the one who started this transfer cancels it."), Forbidden)
    return None


_RULES = {
    "edit": _why_not_edit,
    "send": _why_not_send,
    "transfer": _why_not_transfer,
    "email": _why_not_email,
    "link": _why_not_link,
    "archive": _why_not_archive,
    "move": _why_not_move,
    "cancel_transfer": _why_not_cancel_transfer,
}


def email_locked(session: Session, passport: Passport) -> bool:
    """After activation or a transfer only Support changes the owner's e-mail."""
    if passport.state in (PassportState.activated.value, PassportState.transfer_pending.value):
        return True
    return was_transferred(session, passport)
