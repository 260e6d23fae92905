"""What each kind of mail says: one renderer per kind, registered by `renders` and called
by the worker at send time. To add a kind, copy `_webhook_disabled` (text only) or
`_invitation` (with an unsubscribe link)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from admin_app.models import (
    ConsoleUser,
    ContactProposal,
    Customer,
    Garage,
    InspectionForm,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.services.bounces import is_bounced
from admin_app.services.mails.rendering import (
    MailBody,
    MailObsolete,
    greeted,
    login_name,
    new_link,
    owner_login_id,
    page_url,
    record_about,
    renders,
    still_addressed,
)
from admin_app.services.vehicle_values import car_words


@renders("activation")
def _activation(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.passports import (
        ACTIVATION,
        ACTIVATION_TTL,
        asks_own_password,
        owner_login,
    )

    passport = record_about(session, Passport, message.params.get("passport_id"))
    if passport.state == "archived":
        raise MailObsolete("the passport is archived")
    still_addressed(message, passport.owner.email)
    login = owner_login(session, message.recipient)
    fields = {
        "garage": passport.garage.name,
        "plate": passport.plate_display,
        "link": new_link(
            session,
            message,
            "activate",
            purpose=ACTIVATION,
            ttl=ACTIVATION_TTL,
            subject_id=passport.id,
            user_id=login.id if login else None,
        ),
    }
    if asks_own_password(login):
        # His link asks for the password he has (passports.identify_link_holder).
        return greeted(
            passport.owner.full_name,
            _l(
                "%(garage)s made a digital vehicle passport for your car %(plate)s. Open this "
                "link within 7 days and log in with your password to add it to your vehicles:"
                "\n\n%(link)s\n\nThe link works once.\n",
                **fields,
            ),
        )
    return greeted(
        passport.owner.full_name,
        _l(
            "%(garage)s made a digital vehicle passport for your car %(plate)s. Activate it "
            "and choose your password within 7 days:\n\n%(link)s\n\nThe link works once.\n",
            **fields,
        ),
    )


@renders("driver_access")
def _driver_access(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.passports import (
        ACTIVATION_TTL,
        DRIVER_ACCESS,
        asks_own_password,
        owner_login,
    )

    passport = record_about(session, Passport, message.params.get("passport_id"))
    driver = record_about(session, Customer, message.params.get("customer_id"))
    still_addressed(message, driver.email)
    login = owner_login(session, message.recipient)
    link = new_link(
        session,
        message,
        "access",
        purpose=DRIVER_ACCESS,
        ttl=ACTIVATION_TTL,
        subject_id=driver.id,
        user_id=login.id if login else None,
    )
    if asks_own_password(login):
        return greeted(
            driver.full_name,
            _l(
                "You are the driver of %(plate)s now. Open this link within 7 days and log "
                "in with your password to add it to your vehicles:\n\n%(link)s\n",
                plate=passport.plate_display,
                link=link,
            ),
        )
    return greeted(
        driver.full_name,
        _l(
            "You are the driver of %(plate)s now. Choose your password within 7 days to see "
            "its maintenance:\n\n%(link)s\n",
            plate=passport.plate_display,
            link=link,
        ),
    )


def _waiting_transfer(session: Session, message: OutboxMessage):
    """The transfer a notice or reminder is about, still waiting and still addressed to
    this recipient, its passport, and a fresh accept link (the earlier one stops working)."""
    from admin_app.services.transfers import ACCEPT, ACCEPT_TTL

    transfer = record_about(session, Transfer, message.params.get("transfer_id"))
    if transfer.state != "pending":
        raise MailObsolete("the transfer is no longer waiting")
    still_addressed(message, transfer.to_customer.email)
    passport = record_about(session, Passport, transfer.passport_id)
    link = new_link(
        session,
        message,
        "transfer/accept",
        purpose=ACCEPT,
        ttl=ACCEPT_TTL,
        subject_id=transfer.id,
        user_id=owner_login_id(session, message),
    )
    return transfer, passport, link


@renders("transfer_notice")
def _transfer_notice(session: Session, message: OutboxMessage) -> str:
    transfer, passport, link = _waiting_transfer(session, message)
    return greeted(
        transfer.to_name,
        _l(
            "The AutoPassport of %(car)s is being transferred to you. Log in and accept it "
            "within 14 days:\n\n%(link)s\n",
            car=car_words(session, passport),
            link=link,
        ),
    )


@renders("transfer_reminder")
def _transfer_reminder(session: Session, message: OutboxMessage) -> str:
    """Issue 18: the accept link's last days; a fresh link, the old one stops working."""
    from admin_app.domain.clock import local_date, local_today

    transfer, passport, link = _waiting_transfer(session, message)
    return greeted(
        transfer.to_name,
        _l(
            "The AutoPassport of %(car)s is still waiting for you. Log in and accept it "
            "before %(date)s; after that the transfer expires and the car stays with its "
            "previous owner:\n\n%(link)s\n",
            car=car_words(session, passport),
            date=local_date(local_today(transfer.expires_at)),
            link=link,
        ),
    )


# What the starter of a transfer is told when it ends, by the state it ended in.
STARTER_TOLD = {
    "accepted": _l(
        "%(receiver)s (%(email)s) accepted the AutoPassport of %(car)s that you "
        "transferred on %(date)s. The car is in the new owner's account now; you "
        "need to do nothing more.\n"
    ),
    "expired": _l(
        "%(receiver)s (%(email)s) did not accept the AutoPassport of %(car)s within "
        "14 days, so the transfer you started on %(date)s has expired. The car is back "
        "as it was before the transfer. If the sale goes ahead, start the transfer "
        "again, and ask the buyer to accept it in time.\n"
    ),
}


def _starter_told(session: Session, message: OutboxMessage, state: str) -> MailBody:
    """The mail telling a transfer's starter how it ended, while it still says ``state``."""
    from admin_app.domain.clock import local_date, local_today
    from admin_app.services.transfers import starter_to_tell

    transfer = record_about(session, Transfer, message.params.get("transfer_id"))
    if transfer.state != state:
        raise MailObsolete(f"the transfer is {transfer.state}, not {state}")
    address, name = starter_to_tell(session, transfer) or (None, "")  # None: refused below
    still_addressed(message, address)
    passport = record_about(session, Passport, transfer.passport_id)
    text = STARTER_TOLD[state] % {
        "receiver": transfer.to_name or transfer.to_email,
        "email": transfer.to_email,
        "car": car_words(session, passport),
        "date": local_date(local_today(transfer.created_at)),
    }
    return MailBody(greeted(name, text), from_platform=True)


@renders("transfer_accepted")
def _transfer_accepted(session: Session, message: OutboxMessage) -> MailBody:
    return _starter_told(session, message, "accepted")


@renders("transfer_expired")
def _transfer_expired(session: Session, message: OutboxMessage) -> MailBody:
    return _starter_told(session, message, "expired")


@renders("password_reset")
def _password_reset(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.accounts import PASSWORD_RESET, reset_link_ttl

    user = record_about(session, ConsoleUser, message.params.get("user_id"))
    still_addressed(message, user.email)
    welcome = bool(message.params.get("welcome"))
    link = new_link(
        session,
        message,
        "reset-password",
        purpose=PASSWORD_RESET,
        ttl=reset_link_ttl(welcome=welcome),
        user_id=user.id,
    )
    name = login_name(user)
    if welcome and user.fleet_account_id:
        return greeted(name, _fleet_welcome(user, link))
    if welcome:
        return greeted(
            name,
            _l(
                "A login was made for you (user name: %(username)s). Choose your password "
                "within 72 hours with this link:\n\n%(link)s\n",
                username=user.username,
                link=link,
            ),
        )
    return greeted(
        name,
        _l(
            "Someone asked to reset the password of %(username)s. Choose a new password "
            "within one hour with this link (it works once):\n\n%(link)s\n\n"
            "Did not ask for it? Then ignore this mail.\n",
            username=user.username,
            link=link,
        ),
    )


def _fleet_welcome(user: ConsoleUser, link: str) -> str:
    """A fleet manager's first mail (R-FL-2): which garage made his account, and where he
    finds his cars once he has a password."""
    fleet = user.fleet_account
    return str(
        _l(
            "%(garage)s gave you a login for the fleet account of %(fleet)s (user name: "
            "%(username)s). Choose your password within 72 hours with this link:\n\n"
            "%(link)s\n\nThen your fleet dashboard shows the cars of %(fleet)s that "
            "%(garage)s maintains, and there you choose their drivers:\n\n%(dashboard)s\n",
            garage=fleet.garage.name,
            fleet=fleet.name,
            username=user.username,
            link=link,
            dashboard=page_url("FleetDashboardView.list"),
        )
    )


@renders("inspection")
def _inspection(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.inspections import (
        FORM_LINK,
        FORM_LINK_TTL,
        customer_email,
        mail_summary,
    )

    form = record_about(session, InspectionForm, message.params.get("form_id"))
    still_addressed(message, customer_email(form))
    version = message.params.get("version") or form.version
    link = new_link(
        session, message, "inspection", purpose=FORM_LINK, ttl=FORM_LINK_TTL, subject_id=form.id
    )
    return mail_summary(session, form, version, link=link)


@renders("invitation")
def _invitation(session: Session, message: OutboxMessage) -> MailBody:
    from admin_app.services.proposals import OPT_OUT, OPT_OUT_TTL, invitation_text

    proposal = record_about(session, ContactProposal, message.params.get("proposal_id"))
    still_addressed(message, proposal.customer.email)
    if is_bounced(proposal.customer):
        # Bounced after the week closed: an invitation is not worth a known-bad address.
        raise MailObsolete("the address bounced after the invitation was queued")
    link = new_link(
        session,
        message,
        "opt-out",
        purpose=OPT_OUT,
        ttl=OPT_OUT_TTL,
        subject_id=proposal.customer_id,
    )
    # The same link serves the List-Unsubscribe header: the mail program's button posts
    # to it (RFC 8058) and the page behind it takes that post without a session.
    return MailBody(invitation_text(session, proposal, link=link), unsubscribe=link)


@renders("garage_email_changed")
def _garage_email_changed(session: Session, message: OutboxMessage) -> str:
    # Sent to the old and the new address: either may not have expected it (R-PP-3).
    garage = record_about(session, Garage, message.params.get("garage_id"))
    return greeted(
        garage.name,
        _l(
            "%(who)s changed the e-mail address of %(garage)s in the garage "
            "console from %(old)s to %(new)s.\n\nPassports created with %(new)s from now "
            "on are stock cars; cars created before keep their stock-car flag. "
            "Did you not expect this change? Then contact the platform's support desk.\n",
            who=message.params.get("by"),
            garage=garage.name,
            old=message.params.get("old"),
            new=message.params.get("new"),
        ),
    )


@renders("webhook_disabled")
def _webhook_disabled(session: Session, message: OutboxMessage) -> str:
    # Issue 16: the garage's management system stops hearing from the console; say so.
    from admin_app.models import WebhookEndpoint

    endpoint = record_about(session, WebhookEndpoint, message.params.get("endpoint_id"))
    garage = record_about(session, Garage, endpoint.garage_id)
    return greeted(
        garage.name,
        _l(
            "For 24 hours the console could not deliver a webhook to %(url)s: every "
            "attempt failed. The endpoint is now switched off and receives no events.\n\n"
            "Check the endpoint's delivery log under My garage > Webhooks, repair the "
            "receiving system, then switch the endpoint on again; deliveries that "
            "failed can be sent again from the log.\n",
            url=endpoint.url,
        ),
    )


@renders("apk_reminder")
def _apk_reminder(session: Session, message: OutboxMessage) -> MailBody:
    # Issue 18: the owner is reminded of his car's APK expiry by his garage.
    from admin_app.models import ApkReminder
    from admin_app.services.apk_reminders import reminder_text
    from admin_app.services.proposals import OPT_OUT, OPT_OUT_TTL

    reminder = record_about(session, ApkReminder, message.params.get("reminder_id"))
    customer = record_about(session, Customer, reminder.customer_id)
    passport = record_about(session, Passport, reminder.passport_id)
    still_addressed(message, customer.email)
    if passport.state == "archived" or passport.owner_id != customer.id:
        raise MailObsolete("the car was archived or has another owner now")
    if is_bounced(customer) or customer.never_contact:
        raise MailObsolete("the customer opted out or the address bounced since")
    # The invitations' opt-out link (R-CP-2): "never" stops reminders and invitations.
    link = new_link(
        session, message, "opt-out", purpose=OPT_OUT, ttl=OPT_OUT_TTL, subject_id=customer.id
    )
    return MailBody(reminder_text(session, reminder, link=link), unsubscribe=link)


@renders("apk_digest")
def _apk_digest(session: Session, message: OutboxMessage) -> MailBody:
    # Issue 18: a fleet manager's weekly list of his cars due for their APK.
    from admin_app.models import ApkDigest, FleetAccount
    from admin_app.services.apk_reminders import (
        DIGEST_STOP,
        DIGEST_STOP_TTL,
        digest_cars,
        digest_text,
    )

    digest = record_about(session, ApkDigest, message.params.get("digest_id"))
    fleet = record_about(session, FleetAccount, digest.fleet_account_id)
    still_addressed(message, fleet.email)
    if fleet.apk_digest_stopped_at is not None:
        raise MailObsolete("the fleet manager stopped the overviews")
    cars = digest_cars(session, digest)
    if not cars:
        raise MailObsolete("none of the digest's cars is in the fleet any more")
    link = new_link(
        session,
        message,
        "apk-overview/stop",
        purpose=DIGEST_STOP,
        ttl=DIGEST_STOP_TTL,
        subject_id=fleet.id,
    )
    text = digest_text(
        session, digest, cars, dashboard=page_url("FleetDashboardView.list"), link=link
    )
    return MailBody(text, unsubscribe=link)
