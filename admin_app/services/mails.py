"""What each kind of mail says, written by the worker when it sends the mail (R-X-1).

An outbox row holds a mail's kind, recipient, subject and the ids it is about. At send
time one renderer per kind reads the records, makes the mail's link (services/tokens: a
fresh token for the address the mail goes to) and writes the text; the HTML part is the
same text in the console's mail layout. So a mail never waits in the database with a
working link in it, and a link is always made for the address it is really sent to.
Customers get Dutch mail, whatever the language of the screen that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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
from admin_app.services.emails import email_key
from admin_app.services.tokens import issue_token


class MailObsolete(Exception):
    """What the mail was about is gone (deleted, archived): it is not sent."""


@dataclass(frozen=True)
class RenderedMail:
    text: str
    html: str


Renderer = Callable[[Session, OutboxMessage], str]
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
        text = renderer(session, message)
        garage = get_across_tenants(session, Garage, message.garage_id)
        html = render_template(
            "mail/layout.html",
            paragraphs=[_html_paragraph(p) for p in text.strip().split("\n\n")],
            garage=garage,
            subject=message.subject,
        )
    return RenderedMail(text=text, html=html)


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
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/{path}/{raw}"


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
        "name": passport.owner.full_name,
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
        return str(
            _l(
                "Dear %(name)s,\n\n%(garage)s made a digital vehicle passport for your car "
                "%(plate)s. Open this link within 7 days and log in with your password to "
                "add it to your vehicles:\n\n%(link)s\n\nThe link works once.\n",
                **fields,
            )
        )
    return str(
        _l(
            "Dear %(name)s,\n\n%(garage)s made a digital vehicle passport for your car "
            "%(plate)s. Activate it and choose your password within 7 days:\n\n%(link)s\n\n"
            "The link works once.\n",
            **fields,
        )
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
        return str(
            _l(
                "Dear %(name)s,\n\nYou are the driver of %(plate)s now. Open this link "
                "within 7 days and log in with your password to add it to your vehicles:"
                "\n\n%(link)s\n",
                name=driver.full_name,
                plate=passport.plate_display,
                link=link,
            )
        )
    return str(
        _l(
            "Dear %(name)s,\n\nYou are the driver of %(plate)s now. Choose your "
            "password within 7 days to see its maintenance:\n\n%(link)s\n",
            name=driver.full_name,
            plate=passport.plate_display,
            link=link,
        )
    )


@renders("transfer_notice")
def _transfer_notice(session: Session, message: OutboxMessage) -> str:
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
    return str(
        _l(
            "Dear %(name)s,\n\nThe AutoPassport of %(plate)s (%(brand)s %(model)s) is being "
            "transferred to you. Log in and accept it within 14 days:\n\n%(link)s\n",
            name=transfer.to_name,
            plate=passport.plate_display,
            brand=passport.brand or "",
            model=passport.model or "",
            link=link,
        )
    )


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
    if welcome:
        return str(
            _l(
                "Hello %(name)s,\n\nA login was made for you (user name: %(username)s). "
                "Choose your password within 72 hours with this link:\n\n%(link)s\n",
                name=user.first_name,
                username=user.username,
                link=link,
            )
        )
    return str(
        _l(
            "Hello %(name)s,\n\nSomeone asked to reset the password of %(username)s. "
            "Choose a new password within one hour with this link (it works once):"
            "\n\n%(link)s\n\nDid not ask for it? Then ignore this mail.\n",
            name=user.first_name,
            username=user.username,
            link=link,
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
def _invitation(session: Session, message: OutboxMessage) -> str:
    from admin_app.services.proposals import OPT_OUT, OPT_OUT_TTL, invitation_text

    proposal = _record(session, ContactProposal, message.params.get("proposal_id"))
    _still_addressed(message, proposal.customer.email)
    link = _new_link(
        session,
        message,
        "opt-out",
        purpose=OPT_OUT,
        ttl=OPT_OUT_TTL,
        subject_id=proposal.customer_id,
    )
    return invitation_text(session, proposal, link=link)


@renders("garage_email_changed")
def _garage_email_changed(session: Session, message: OutboxMessage) -> str:
    # Sent to the old and the new address: either may not have expected it (R-PP-3).
    garage = _record(session, Garage, message.params.get("garage_id"))
    return str(
        _l(
            "Hello,\n\n%(who)s changed the e-mail address of %(garage)s in the garage "
            "console from %(old)s to %(new)s.\n\nPassports created with %(new)s from now "
            "on are stock cars; cars created before keep their stock-car flag. "
            "Did you not expect this change? Then contact the platform's support desk.\n",
            who=message.params.get("by"),
            garage=garage.name,
            old=message.params.get("old"),
            new=message.params.get("new"),
        )
    )
