"""The customer profile besides its fields (R-PP, R-TR): the state badge, the buttons or
the reason in their place, the transfers, the mails, the questions on leaving, the
fleet account, and the history.
"""

from __future__ import annotations

from flask import request
from flask import session as browser_session
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from admin_app.models import AuditLog, FleetAccount, OutboxMessage, Passport
from admin_app.models.passports import STATE_LABELS, PassportState
from admin_app.models.transfers import Transfer
from admin_app.services import passports as passport_rules
from admin_app.services.audit import actor_names
from admin_app.web.actor import current_actor

ASK_RESEND = "ask_resend_passport"

STATE_STYLES = {
    PassportState.created.value: "warning",  # not sent yet: it must stand out
    PassportState.sent.value: "info",
    PassportState.activated.value: "success",
    PassportState.transfer_pending.value: "primary",
    PassportState.archived.value: "default",
}


# The profile's buttons by the action they take, for the reason shown in a button's place.
ACTION_LABELS = {
    "send": _l("Send to the customer"),
    "transfer": _l("Transfer to a customer"),
    "email": _l("Change the e-mail address"),
    "move": _l("Move to another garage"),
    "archive": _l("Archive"),
    "edit": _l("Edit"),
}


def state_badge(state: str) -> Markup:
    label = escape(str(STATE_LABELS.get(state, state)))
    return Markup(
        f'<span class="label label-{STATE_STYLES.get(state, "default")} '
        f'state-{escape(state)}">{label}</span>'
    )


def profile_context(session, passport: Passport, endpoint: str) -> dict:
    """What the customer profile shows besides the fields (which _get_show_widget fills
    with the register's values, and the history): the actions, the transfers, the mails,
    the questions on leaving, the fleet account and the owner's shared details."""
    # Which buttons, and the reason in place of each one not allowed: the service's
    # answer, the same the forms and the services themselves go by.
    refusals = passport_rules.allowed_actions(session, current_actor(), passport)
    can = {action: refusal is None for action, refusal in refusals.items()}
    return {
        "passport": passport,
        "state_badge": state_badge(passport.state),
        "endpoint": endpoint,
        "edit_form": None,
        **profile_actions(refusals, can),
        **profile_transfers(session, passport),
        "mails": owner_mails(session, passport),
        **leave_questions(passport, can),
        **profile_fleet(session, passport, can),
        # The owner's details are one customer record: how many live cars show them.
        "shared_by": passport_rules.shared_by(session, passport) if can["edit"] else 0,
    }


def profile_actions(refusals: dict, can: dict) -> dict:
    """The buttons, and a reason where the role has the action, only not on this passport
    now."""
    return {
        "can": can,
        "reasons": {
            action: refusal.reason
            for action, refusal in refusals.items()
            if refusal is not None and refusal.for_this_passport
        },
        "action_labels": ACTION_LABELS,
    }


def profile_transfers(session, passport: Passport) -> dict:
    """The car's transfers, newest first, with who started each (named as the history
    names its actors), and the one waiting."""
    transfers_ = session.scalars(
        select(Transfer).where(Transfer.passport_id == passport.id).order_by(Transfer.id.desc())
    ).all()
    return {
        "transfers": transfers_,
        "transfer_by": actor_names(session, [(t.created_by_id, t.created_by) for t in transfers_]),
        "pending_transfer": passport_rules.pending_transfer(session, passport),
    }


def owner_mails(session, passport: Passport) -> list[OutboxMessage]:
    """The last 20 mails to the owner's address."""
    return session.scalars(
        select(OutboxMessage)
        .where(func.lower(OutboxMessage.recipient) == passport.owner.email.lower())
        .order_by(OutboxMessage.id.desc())
        .limit(20)
    ).all()


def leave_questions(passport: Passport, can: dict) -> dict:
    """The in-page questions when leaving the profile (R-PP-4, R-TR-1)."""
    unsent = passport.state == PassportState.created.value
    # Asked once, after an e-mail change that did not send again (R-BJ-7).
    ask_resend = (
        passport.state == PassportState.sent.value
        and browser_session.pop(ASK_RESEND, None) == passport.id
    )
    return {
        "ask_send": (unsent or ask_resend) and can["send"],
        "ask_resend": ask_resend and can["send"],
        # The question is about a sold stock car (R-TR-1), not any car one may transfer.
        "ask_transfer": passport.stock_car and passport.state == "activated" and can["transfer"],
    }


def profile_fleet(session, passport: Passport, can: dict) -> dict:
    """Fleet accounts (R-FL-1, R-FL-3): only the garage links, on activated passports."""
    return {
        # A refused link shows the name that was typed, to correct it.
        "fleet_name": request.form.get("fleet_name") if request.method == "POST" else None,
        "fleets": session.scalars(select(FleetAccount).order_by(FleetAccount.name)).all()
        if can["link"]
        else [],
        # A stock car's owner is the garage itself: it manages no customer's fleet.
        "can_make_fleet": can["link"] and not passport.stock_car and not passport.fleet_account_id,
        "manages": session.scalars(
            select(FleetAccount).where(FleetAccount.manager_passport_id == passport.id)
        ).first(),
    }


def passport_history(session, passport: Passport) -> list[AuditLog]:
    """The passport's audit trail, with its owner's and driver's profile changes."""
    customer_ids = [cid for cid in (passport.owner_id, passport.driver_id) if cid]
    return session.scalars(
        select(AuditLog)
        .where(
            or_(
                (AuditLog.table_name == "passport") & (AuditLog.record_id == passport.id),
                (AuditLog.table_name == "customer") & (AuditLog.record_id.in_(customer_ids)),
            )
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(100)
    ).all()
