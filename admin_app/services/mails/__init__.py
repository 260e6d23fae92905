"""What each kind of mail says, written by the worker when it sends the mail (R-X-1).

An outbox row holds a mail's kind, recipient, subject and the ids it is about. At send
time one renderer per kind reads the records, makes the mail's link (services/tokens: a
fresh token for the address the mail goes to) and writes the text; the HTML part is the
same text in the console's mail layout, under the garage's name and logo. So a mail never
waits in the database with a working link in it, and a link is always made for the address
it is really sent to. Customers get Dutch mail, whatever the language of the screen that
caused it. Every mail opens with `greeting`: the name as stored, never a guessed "heer" or
"mevrouw".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
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
from admin_app.scope import get_across_tenants
from admin_app.services.bounces import is_bounced
from admin_app.services.emails import email_key
from admin_app.services.tokens import issue_token
from admin_app.services.vehicle_values import car_words


class MailObsolete(Exception):
    """What the mail was about is gone (deleted, archived): it is not sent."""


@dataclass(frozen=True)
class MailBody:
    """What a renderer writes when the mail needs more than its text."""

    text: str
    # The invitation's opt-out link, also offered as one-click unsubscribe (RFC 8058).
    unsubscribe: str | None = None
    # Signed by the platform, not the garage: a mail to the garage (or its fleet manager)
    # about its own work would otherwise be signed by its addressee (issue 18).
    from_platform: bool = False


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows by its Content-ID (the garage's logo)."""

    data: bytes
    maintype: str
    subtype: str
    cid: str  # with its angle brackets, as the Content-ID header wants it


@dataclass(frozen=True)
class RenderedMail:
    text: str
    html: str
    logo: InlineImage | None = None
    unsubscribe: str | None = None
    # The garage that signs the mail: an answer to noreply@ would reach nobody.
    reply_to: str | None = None


Renderer = Callable[[Session, OutboxMessage], str | MailBody]
RENDERERS: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


def render_mail(session: Session, message: OutboxMessage) -> RenderedMail:
    """The text and HTML of ``message``, with a new link if its kind has one.

    Raises MailObsolete when its subject is gone. Flushes the new token: the caller
    commits it with the mail's state."""
    renderer = RENDERERS.get(message.kind)
    if renderer is None:
        raise MailObsolete(f"no template for mail kind {message.kind!r}")
    with force_locale("nl"):
        body = renderer(session, message)
        if isinstance(body, str):
            body = MailBody(body)
        garage = get_across_tenants(session, Garage, message.garage_id)
        signer = None if body.from_platform else garage
        body = replace(body, text=f"{body.text.rstrip()}\n\n{signature(signer)}\n")
        logo = _logo(garage)
        html = render_template(
            "mail/layout.html",
            paragraphs=[_html_paragraph(p) for p in body.text.strip().split("\n\n")],
            garage=garage,
            logo_src=f"cid:{logo.cid[1:-1]}" if logo else None,
            subject=message.subject,
        )
    return RenderedMail(
        text=body.text,
        html=html,
        logo=logo,
        unsubscribe=body.unsubscribe,
        reply_to=formataddr((" ".join(signer.name.split()), signer.email)) if signer else None,
    )


def sending_domain() -> str | None:
    """The domain of MAIL_FROM: Message-IDs and Content-IDs are made on it, so they are
    unique in the world and do not name the server that happened to send the mail."""
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or None


def _logo(garage: Garage | None) -> InlineImage | None:
    if garage is None or not garage.logo:
        return None
    maintype, _, subtype = (garage.logo_mimetype or "").partition("/")
    if maintype != "image" or not subtype:
        return None
    return InlineImage(
        data=garage.logo,
        maintype=maintype,
        subtype=subtype,
        cid=make_msgid(idstring="logo", domain=sending_domain()),
    )


def greeting(name: str | None) -> str:
    """A mail's first line: the name exactly as stored, or "Beste klant" when only the
    address is known. Nothing is guessed from it (no "heer" or "mevrouw")."""
    name = " ".join((name or "").split())
    if name:
        return str(_l("Dear %(name)s,", name=name))
    return str(_l("Dear customer,"))


def signature(garage: Garage | None) -> str:
    """A mail's last lines: who writes — the garage, or the platform for its own mails."""
    sender = garage.name if garage is not None else current_app.config["APP_NAME"]
    return str(_l("Kind regards,\n%(sender)s", sender=" ".join(sender.split())))


def greeted(name: str | None, text) -> str:
    """``text`` (a string or a lazy translation) under the greeting for ``name``."""
    return f"{greeting(name)}\n\n{text}"


def login_name(user: ConsoleUser) -> str:
    """A login's name as stored. FAB wants a first and a last name: a login made for a
    fleet account holds the company's name in both, an Owner's without a first name his
    last name twice; each is named once."""
    if user.first_name == user.last_name:
        return user.last_name or ""
    return " ".join(p for p in (user.first_name, user.last_name) if p)


_URL = re.compile(r"https?://\S+")


def _html_paragraph(text: str) -> Markup:
    """A paragraph of the text part as HTML: every character escaped, links clickable."""
    parts, last = [], 0
    for match in _URL.finditer(text):
        parts.append(escape(text[last : match.start()]))
        url = escape(match.group(0))
        parts.append(Markup(f'<a href="{url}">{url}</a>'))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts).replace("\n", Markup("<br>\n"))


def _new_link(
    session: Session,
    message: OutboxMessage,
    path: str,
    *,
    purpose: str,
    ttl,
    subject_id: int | None = None,
    user_id: int | None = None,
) -> str:
    """A fresh link for the address this mail goes to (services/tokens)."""
    raw = issue_token(
        session,
        purpose=purpose,
        ttl=ttl,
        recipient=message.recipient,
        user_id=user_id,
        subject_id=subject_id,
    )
    return public_url(f"/{path}/{raw}")


def public_url(path: str) -> str:
    """``path`` as the world reaches the console (PUBLIC_URL, never the Host header, which
    a request could forge): mailed links, webhook payloads, calendar addresses."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{path}"


def _page_url(endpoint: str) -> str:
    """A console page's address for a mail: the worker has no request to build it from."""
    return public_url(current_app.url_map.bind("").build(endpoint))


def _login_id(session: Session, message: OutboxMessage) -> int | None:
    """The Owner login at the mail's address, if any: the only one its link may act for."""
    from admin_app.services.passports import owner_login

    login = owner_login(session, message.recipient)
    return login.id if login else None


def _still_addressed(message: OutboxMessage, address: str | None) -> None:
    """A mail queued for an address its subject no longer has is not sent: its link would
    be void, and its text would tell a stranger the name, plate and garage."""
    if not address or email_key(address) != email_key(message.recipient):
        raise MailObsolete("the address changed after the mail was queued")


def _record(session: Session, model, ident):
    # The mail is the system's: the row it is about is read whatever the scope.
    record = get_across_tenants(session, model, ident) if ident is not None else None
    if record is None:
        raise MailObsolete(f"{model.__tablename__} {ident} is gone")
    return record


# --- the kinds ---------------------------------------------------------------------------


@renders("activation")
def _activation(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.passports import (
        ACTIVATION,
        ACTIVATION_TTL,
        asks_own_password,
        owner_login,
    )

    passport = _record(session, Passport, message.params.get("passport_id"))
    if passport.state == "archived":
        raise MailObsolete("the passport is archived")
    _still_addressed(message, passport.owner.email)
    login = owner_login(session, message.recipient)
    fields = {
        "garage": passport.garage.name,
        "plate": passport.plate_display,
        "link": _new_link(
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

    passport = _record(session, Passport, message.params.get("passport_id"))
    driver = _record(session, Customer, message.params.get("customer_id"))
    _still_addressed(message, driver.email)
    login = owner_login(session, message.recipient)
    link = _new_link(
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

    transfer = _record(session, Transfer, message.params.get("transfer_id"))
    if transfer.state != "pending":
        raise MailObsolete("the transfer is no longer waiting")
    _still_addressed(message, transfer.to_customer.email)
    passport = _record(session, Passport, transfer.passport_id)
    link = _new_link(
        session,
        message,
        "transfer/accept",
        purpose=ACCEPT,
        ttl=ACCEPT_TTL,
        subject_id=transfer.id,
        user_id=_login_id(session, message),
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

    transfer = _record(session, Transfer, message.params.get("transfer_id"))
    if transfer.state != state:
        raise MailObsolete(f"the transfer is {transfer.state}, not {state}")
    starter = starter_to_tell(session, transfer)
    _still_addressed(message, starter[0] if starter else None)
    passport = _record(session, Passport, transfer.passport_id)
    text = STARTER_TOLD[state] % {
        "receiver": transfer.to_name or transfer.to_email,
        "email": transfer.to_email,
        "car": car_words(session, passport),
        "date": local_date(local_today(transfer.created_at)),
    }
    return MailBody(greeted(starter[1], text), from_platform=True)


@renders("transfer_accepted")
def _transfer_accepted(session: Session, message: OutboxMessage) -> MailBody:
    return _starter_told(session, message, "accepted")


@renders("transfer_expired")
def _transfer_expired(session: Session, message: OutboxMessage) -> MailBody:
    return _starter_told(session, message, "expired")


@renders("password_reset")
def _password_reset(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.accounts import PASSWORD_RESET, reset_link_ttl

    user = _record(session, ConsoleUser, message.params.get("user_id"))
    _still_addressed(message, user.email)
    welcome = bool(message.params.get("welcome"))
    link = _new_link(
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
            dashboard=_page_url("FleetDashboardView.list"),
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

    form = _record(session, InspectionForm, message.params.get("form_id"))
    _still_addressed(message, customer_email(form))
    version = message.params.get("version") or form.version
    link = _new_link(
        session, message, "inspection", purpose=FORM_LINK, ttl=FORM_LINK_TTL, subject_id=form.id
    )
    return mail_summary(session, form, version, link=link)


@renders("invitation")
def _invitation(session: Session, message: OutboxMessage) -> MailBody:
    from admin_app.services.proposals import OPT_OUT, OPT_OUT_TTL, invitation_text

    proposal = _record(session, ContactProposal, message.params.get("proposal_id"))
    _still_addressed(message, proposal.customer.email)
    if is_bounced(proposal.customer):
        # Bounced after the week closed: an invitation is not worth a known-bad address.
        raise MailObsolete("the address bounced after the invitation was queued")
    link = _new_link(
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
    garage = _record(session, Garage, message.params.get("garage_id"))
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

    endpoint = _record(session, WebhookEndpoint, message.params.get("endpoint_id"))
    garage = _record(session, Garage, endpoint.garage_id)
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

    reminder = _record(session, ApkReminder, message.params.get("reminder_id"))
    customer = _record(session, Customer, reminder.customer_id)
    passport = _record(session, Passport, reminder.passport_id)
    _still_addressed(message, customer.email)
    if passport.state == "archived" or passport.owner_id != customer.id:
        raise MailObsolete("the car was archived or has another owner now")
    if is_bounced(customer) or customer.never_contact:
        raise MailObsolete("the customer opted out or the address bounced since")
    # The invitations' opt-out link (R-CP-2): "never" stops reminders and invitations.
    link = _new_link(
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

    digest = _record(session, ApkDigest, message.params.get("digest_id"))
    fleet = _record(session, FleetAccount, digest.fleet_account_id)
    _still_addressed(message, fleet.email)
    if fleet.apk_digest_stopped_at is not None:
        raise MailObsolete("the fleet manager stopped the overviews")
    cars = digest_cars(session, digest)
    if not cars:
        raise MailObsolete("none of the digest's cars is in the fleet any more")
    link = _new_link(
        session,
        message,
        "apk-overview/stop",
        purpose=DIGEST_STOP,
        ttl=DIGEST_STOP_TTL,
        subject_id=fleet.id,
    )
    text = digest_text(
        session, digest, cars, dashboard=_page_url("FleetDashboardView.list"), link=link
    )
    return MailBody(text, unsubscribe=link)
