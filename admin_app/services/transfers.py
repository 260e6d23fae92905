"""Transfers to a new owner or driver (R-TR-1…5, with R-FL-5/6 for fleet cars).

Who may start one: the garage for its stock cars; the fleet manager for his fleet's cars;
the owner for any other car of his. A new e-mail takes the car at once (state `sent`,
activation mail); an e-mail with an Owner login must accept within 14 days. Issue 18: he
is reminded once 3 days before that, and the garage or fleet manager that started the
transfer is told when it is accepted or expires.

The state machine (issue 20). Who may make a move is passports.allowed_actions
("transfer", "cancel_transfer"), for the screens, the API and the rules below alike;
accepting is authorized by the accept link, mailed to its one recipient.

    from      move                                  to         the car
    —         start: a fleet car's new driver       accepted   keeps its owner and fleet
    —         start: a new e-mail                   accepted   his at once (sent), activation mail
    —         start: an e-mail with an Owner login  pending    transfer_pending, accept link
    —         start: a new e-mail, out of a fleet   pending    his, transfer_pending; activating
                                                                accepts (R-FL-6)
    pending   accept (or activate, above)           accepted   activated, out of its fleet
    pending   cancel, or archive the car            cancelled  previous owner, state, stock flag
    pending   14 days pass (the worker clock)       expired    previous owner, state, stock flag

A transfer is inserted `pending` whichever way it goes (the one-pending-per-passport index
sees every start), then settled; accepted, cancelled and expired are final.
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import Passport, Transfer
from admin_app.models.base import utcnow
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.scope import ALL_TENANTS, get_across_tenants, scoped_get
from admin_app.services import idempotency, webhooks
from admin_app.services import passports as passport_rules
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key
from admin_app.services.passports import PersonDetails
from admin_app.services.tokens import NOT_VALID, check_addressed_to, consume_token, peek_token
from admin_app.services.transfer_notices import mail_accept, tell_starter
from admin_app.services.transfer_notices import remind_transfers as remind_transfers
from admin_app.services.transfer_notices import starter_to_tell as starter_to_tell

ACCEPT = "transfer_accept"
ACCEPT_TTL = timedelta(days=14)
FLEET_LINKED = passport_rules.FLEET_LINKED
# remind_transfers and starter_to_tell are imported "as" themselves above: the worker
# clock and the mails ask this module, the transfers' one door, for them.

# The moves of the table above: a transfer leaves `pending` once, for one of these.
MOVES = {
    TransferState.pending.value: frozenset(
        {TransferState.accepted, TransferState.cancelled, TransferState.expired}
    ),
}


class TransferPath(enum.StrEnum):
    """Which way a started transfer went (the four starts of the table above): what the
    one who confirmed it is told happens next."""

    new_driver = "new_driver"  # the driver is set; the car stays in the fleet
    handed_over = "handed_over"  # a new e-mail: his at once, an activation mail
    awaits_acceptance = "awaits_acceptance"  # an Owner login accepts within 14 days
    awaits_activation = "awaits_activation"  # a new e-mail out of a fleet: activating accepts


@dataclass(frozen=True)
class TransferStarted:
    """What start_transfer did: the transfer, and the path it took."""

    transfer: Transfer
    path: TransferPath


def new_confirmation_key() -> str:
    """Put in the confirmation form: the Idempotency-Key of its submit."""
    return secrets.token_urlsafe(24)


def confirm_transfer_form(
    session: Session,
    passport_id: int,
    *,
    actor: Actor,
    person: PersonDetails,
    kind: str = "owner",
    confirmation_key: str | None = None,
    now: datetime | None = None,
) -> TransferStarted:
    """The transfer form submitted (R-TR-5): twice — a double click, a second tab — it
    makes one transfer. The form's key is an Idempotency-Key of the person confirming,
    under the API's rule (services/idempotency), claimed in this transaction: a second
    submit waits for the first to commit and finds its transfer; a refused submit keeps
    no claim, so the corrected form goes through. The same form sent with other details
    is refused. A submit found earlier is told the path its first one took."""
    if not confirmation_key or actor.id is None:
        return start_transfer(session, passport_id, actor=actor, person=person, kind=kind)
    caller = idempotency.Caller("user", actor.id)
    request_print = idempotency.fingerprint(
        "POST",
        f"transfer-form/{passport_id}/{kind}",
        idempotency.canonical_json(asdict(person)),
    )
    try:
        earlier = idempotency.claim(
            session, caller, confirmation_key, request_print, now=now or utcnow()
        )
    except idempotency.OtherRequest:
        raise Conflict(
            _l(
                "This form was confirmed already with other details; check them and "
                "confirm again for a new change."
            )
        ) from None
    if earlier is not None:
        return _started_earlier(session, json.loads(earlier.body))
    started = start_transfer(session, passport_id, actor=actor, person=person, kind=kind)
    answer = {"transfer_id": started.transfer.id, "path": started.path.value}
    idempotency.record_answer(
        session,
        caller,
        confirmation_key,
        idempotency.Answer(200, {}, idempotency.canonical_json(answer)),
    )
    return started


def _started_earlier(session: Session, answer: dict) -> TransferStarted:
    """The first submit's answer again. Made by this very login with this form (its own
    key): no scope to ask."""
    transfer = get_across_tenants(session, Transfer, answer["transfer_id"])
    if "path" in answer:
        return TransferStarted(transfer, TransferPath(answer["path"]))
    # Recorded before the path was (issue 20; keys live 24 hours): read off the transfer.
    if transfer.kind == "driver":
        return TransferStarted(transfer, TransferPath.new_driver)
    if transfer.expires_at is None:
        return TransferStarted(transfer, TransferPath.handed_over)
    if passport_rules.owner_login(session, transfer.to_email) is None:
        return TransferStarted(transfer, TransferPath.awaits_activation)
    return TransferStarted(transfer, TransferPath.awaits_acceptance)


def start_transfer(
    session: Session,
    passport_id: int,
    *,
    actor: Actor,
    person: PersonDetails,
    kind: str = "owner",
) -> TransferStarted:
    """Hand the passport to ``person`` (R-TR-1, 2, 5), by the path the table above names
    for the receiver. The same transfer confirmed again (or five times at once) is a 409;
    a request sent again with its Idempotency-Key gets its first answer (api/idempotency,
    confirm_transfer_form)."""
    passport = passport_rules.lock_passport(session, passport_id)
    current = _check_start(session, passport, actor=actor, person=person, kind=kind)
    receiver = passport_rules.find_or_create_customer(session, passport.garage_id, person)
    transfer = Transfer(
        passport_id=passport.id,
        garage_id=passport.garage_id,
        kind=kind,
        from_customer_id=current.id if current else None,
        to_customer=receiver,
        to_email=person.email,
        to_name=person.full_name,
        previous_state=passport.state,
        previous_stock_car=1 if passport.stock_car else 0,
        created_by_id=actor.id,
        created_by=actor.name,
    )
    session.add(transfer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Two tabs confirmed at once: the other one won.
        raise Conflict(_l("A transfer of this car is already waiting for acceptance.")) from None
    _announce(session, transfer, "transfer.started")

    if kind == "driver":
        return _set_driver(session, passport, transfer)
    passport.stock_car = False  # R-TR-1: a sold stock car is no longer stock
    if passport_rules.owner_login(session, person.email) is not None:
        return _await_acceptance(session, passport, transfer)
    if passport.fleet_account_id:
        return _await_activation(session, passport, transfer)
    return _hand_over(session, passport, transfer)


def _check_start(
    session: Session, passport: Passport, *, actor: Actor, person: PersonDetails, kind: str
):
    """The refusals of a start, on the locked passport; the current owner or driver."""
    if kind not in ("owner", "driver"):
        raise InvalidInput(_l("Choose owner or driver."), field="kind")
    _refuse_repeat(session, passport, kind, person)
    passport_rules.require(session, actor, passport, "transfer")
    if kind == "driver" and not passport.fleet_account_id:
        raise Conflict(
            _l(
                "A new driver is set for fleet cars only; transfer the car to its "
                "new owner instead."
            ),
            field="kind",
        )
    person.validated()
    current = passport.owner if kind == "owner" else passport.driver
    if current is not None and email_key(current.email) == email_key(person.email):
        raise InvalidInput(
            _l(
                "%(email)s is the current %(who)s already.",
                email=person.email,
                who=_l("owner") if kind == "owner" else _l("driver"),
            ),
            field="email",
        )
    return current


def _set_driver(session: Session, passport: Passport, transfer: Transfer) -> TransferStarted:
    """The car stays in the fleet; the new driver sees it under his own login (R-FL-5)."""
    passport.driver = transfer.to_customer
    passport_rules.release_claim(session, passport.id, passport_rules.DRIVER_CLAIM)
    settle(transfer, TransferState.accepted)
    session.flush()
    _announce(session, transfer, "transfer.accepted")
    passport_rules.give_driver_access(session, passport, transfer.to_customer)
    return TransferStarted(transfer, TransferPath.new_driver)


def _wait(session: Session, passport: Passport, transfer: Transfer) -> None:
    transfer.state = TransferState.pending.value
    transfer.expires_at = utcnow() + ACCEPT_TTL
    passport.state = PassportState.transfer_pending.value
    session.flush()


def _await_acceptance(session: Session, passport: Passport, transfer: Transfer) -> TransferStarted:
    """A known Owner accepts with the mailed link, within 14 days (R-TR-2)."""
    _wait(session, passport, transfer)
    mail_accept(session, passport, transfer)
    return TransferStarted(transfer, TransferPath.awaits_acceptance)


def _await_activation(session: Session, passport: Passport, transfer: Transfer) -> TransferStarted:
    """A new e-mail leaving a fleet: the car waits too, and activating his account is
    accepting (R-FL-6, passports.activate_passport)."""
    _wait(session, passport, transfer)
    _move_owner(session, passport, transfer)
    passport_rules.mail_activation_link(session, passport)
    passport.state = PassportState.transfer_pending.value  # not `sent`: it waits
    session.flush()
    return TransferStarted(transfer, TransferPath.awaits_activation)


def _hand_over(session: Session, passport: Passport, transfer: Transfer) -> TransferStarted:
    """A new e-mail: the car is his at once, and he activates it (R-TR-2)."""
    _move_owner(session, passport, transfer)
    settle(transfer, TransferState.accepted)
    passport_rules.mail_activation_link(session, passport)
    _announce(session, transfer, "transfer.accepted")
    return TransferStarted(transfer, TransferPath.handed_over)


def _refuse_repeat(session: Session, passport: Passport, kind: str, person: PersonDetails) -> None:
    """The same transfer again without a confirmation key (R-TR-5): recognized by its
    outcome — the car's last transfer of this kind went to this address and the car is
    his now, or waits for him to accept it."""
    # Past the scope: the caller holds the car under his scope (it is locked), and an
    # Owner's scope would hide the earlier transfers of his car that were not his.
    latest = session.scalars(
        select(Transfer)
        .where(Transfer.passport_id == passport.id, Transfer.kind == kind)
        .order_by(Transfer.id.desc())
        .limit(1)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if latest is None or email_key(latest.to_email) != email_key(person.email or ""):
        return
    if latest.state == TransferState.pending.value:
        raise Conflict(_l("A transfer of this car is already waiting for acceptance."))
    current = passport.owner if kind == "owner" else passport.driver
    if latest.state == TransferState.accepted.value and current is not None:
        if email_key(current.email) == email_key(latest.to_email):
            raise Conflict(
                _l("This car has been transferred to %(email)s already.", email=current.email)
            )


def _move_owner(session: Session, passport: Passport, transfer: Transfer) -> None:
    if passport.owner_id != transfer.to_customer_id:
        passport_rules.release_claim(session, passport.id, passport_rules.OWNER_CLAIM)
    passport.owner = transfer.to_customer


def settle(transfer: Transfer, state: TransferState) -> None:
    """A waiting transfer ends (MOVES); a transfer that has ended already is a 409, not a
    second ending (every caller checked it under the passport's lock: this is the net)."""
    if state not in MOVES.get(transfer.state, ()):
        raise Conflict(_l("This transfer is no longer waiting for acceptance."))
    transfer.state = state.value
    transfer.decided_at = utcnow()


def transfer_for_accept_link(session: Session, raw: str, *, actor: Actor | None) -> Transfer:
    """The transfer behind a valid accept link (R-TR-2). For its recipient only — the login
    the link was made for, whose address it was mailed to; without an actor (someone who
    has yet to log in) the link is only checked, and nothing of it may be shown."""
    token = peek_token(session, raw, purpose=ACCEPT)
    transfer = get_across_tenants(session, Transfer, token.subject_id)
    if transfer is None:
        raise InvalidInput(NOT_VALID)
    check_addressed_to(token, transfer.to_customer.email)
    if transfer.state != TransferState.pending.value:
        raise InvalidInput(_l("This transfer is no longer waiting for acceptance."))
    if actor is not None and (
        actor.id is None
        or (token.user_id is not None and token.user_id != actor.id)
        or not actor.email
        or email_key(token.recipient) != actor.email
    ):
        raise Forbidden(_l("Log in as %(email)s to accept this transfer.", email=token.recipient))
    return transfer


def accept_transfer(session: Session, raw: str, *, actor: Actor) -> Transfer:
    """The receiving Owner accepts: the car moves to his account (and out of a fleet), and
    the new owner profile is his (claimed by his login)."""
    transfer = transfer_for_accept_link(session, raw, actor=actor)
    # The link authorizes; after the lock the transfer must still be waiting (issue 13).
    passport_rules.lock_passport(session, transfer.passport_id, across_tenants=True)
    session.refresh(transfer)
    transfer = transfer_for_accept_link(session, raw, actor=actor)
    consume_token(session, raw, purpose=ACCEPT, address=transfer.to_customer.email)
    complete_transfer(session, transfer)
    if actor.id is None:  # never: transfer_for_accept_link refuses an actor without a login
        raise Forbidden(_l("You may not do this."))
    passport_rules.claim_car(session, transfer.passport_id, actor.id, passport_rules.OWNER_CLAIM)
    return transfer


def complete_transfer(session: Session, transfer: Transfer) -> Transfer:
    passport = passport_rules.lock_passport(session, transfer.passport_id, across_tenants=True)
    _move_owner(session, passport, transfer)
    passport.state = PassportState.activated.value
    passport.activated_at = passport.activated_at or utcnow()
    passport.fleet_account_id = None  # R-FL-6, in the same transaction
    settle(transfer, TransferState.accepted)
    session.flush()
    _announce(session, transfer, "transfer.accepted")
    tell_starter(session, transfer)
    return transfer


def cancel_transfer(session: Session, transfer_id: int, *, actor: Actor) -> Transfer:
    transfer = scoped_get(session, Transfer, transfer_id)
    if transfer is None:
        raise NotFound(_l("Not found."))
    # The transfer is in the caller's scope; its car is locked whoever holds it now.
    passport_rules.lock_passport(session, transfer.passport_id, across_tenants=True)
    session.refresh(transfer)
    refusal = passport_rules.why_not_cancel(actor, transfer)
    if refusal is not None:
        refusal.refuse()
    _restore(session, transfer, TransferState.cancelled)
    return transfer


def cancel_waiting_transfer(session: Session, passport_id: int, *, actor: Actor) -> Transfer:
    """The car's waiting transfer cancelled from its page (the cancel button): whoever
    allowed_actions lets "cancel_transfer" (R-TR-2), checked on the locked passport, so a
    transfer accepted or cancelled meanwhile is the rule's 409, not a missing row."""
    passport = passport_rules.lock_passport(session, passport_id)
    passport_rules.require(session, actor, passport, "cancel_transfer")
    transfer = passport_rules.pending_transfer(session, passport)
    if transfer is None:  # never: the rule above refuses a car without one
        raise Conflict(_l("No transfer of this car is waiting."))
    _restore(session, transfer, TransferState.cancelled)
    return transfer


def expire_transfers(session: Session, now: datetime | None = None) -> int:
    """Pending transfers past 14 days restore the previous owner and state (R-TR-2)."""
    now = now or utcnow()
    due = session.scalars(
        select(Transfer).where(
            Transfer.state == TransferState.pending.value, Transfer.expires_at <= now
        )
    ).all()
    expired = 0
    for transfer in due:
        passport_rules.lock_passport(session, transfer.passport_id, across_tenants=True)
        session.refresh(transfer)  # accepted or cancelled while this job waited
        if transfer.state == TransferState.pending.value:
            _restore(session, transfer, TransferState.expired)
            tell_starter(session, transfer)
            expired += 1
    return expired


def _restore(session: Session, transfer: Transfer, state: TransferState) -> None:
    passport = passport_rules.lock_passport(session, transfer.passport_id, across_tenants=True)
    if transfer.kind == "owner" and transfer.from_customer_id:
        if passport.owner_id != transfer.from_customer_id:
            passport_rules.release_claim(session, passport.id, passport_rules.OWNER_CLAIM)
        passport.owner_id = transfer.from_customer_id
    passport.state = transfer.previous_state or PassportState.activated.value
    passport.stock_car = bool(transfer.previous_stock_car)
    settle(transfer, state)
    session.flush()
    _announce(session, transfer, f"transfer.{state.value}")


def _announce(session: Session, transfer: Transfer, event_type: str) -> None:
    """The garage's webhook event for this transfer (issue 16), in this transaction."""
    session.flush()
    webhooks.emit(session, transfer.garage_id, event_type, lambda: webhooks.transfer_data(transfer))
