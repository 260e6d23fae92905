"""How a mail is written at send time (R-X-1): the renderer of its kind (`renders`), its
text under the greeting and above the signature, the HTML part in the mail layout, and the
helpers every renderer uses — a fresh link for the address the mail goes to (`new_link`),
the row the mail is about whatever the scope (`record_about`), and the refusal of a mail
whose address changed since it was queued (`still_addressed`)."""

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
    Garage,
    OutboxMessage,
)
from admin_app.scope import get_across_tenants
from admin_app.services.emails import email_key
from admin_app.services.tokens import issue_token


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


def new_link(
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


def page_url(endpoint: str) -> str:
    """A console page's address for a mail: the worker has no request to build it from."""
    return public_url(current_app.url_map.bind("").build(endpoint))


def owner_login_id(session: Session, message: OutboxMessage) -> int | None:
    """The Owner login at the mail's address, if any: the only one its link may act for."""
    from admin_app.services.passports import owner_login

    login = owner_login(session, message.recipient)
    return login.id if login else None


def still_addressed(message: OutboxMessage, address: str | None) -> None:
    """A mail queued for an address its subject no longer has is not sent: its link would
    be void, and its text would tell a stranger the name, plate and garage."""
    if not address or email_key(address) != email_key(message.recipient):
        raise MailObsolete("the address changed after the mail was queued")


def record_about(session: Session, model, ident):
    # The mail is the system's: the row it is about is read whatever the scope.
    record = get_across_tenants(session, model, ident) if ident is not None else None
    if record is None:
        raise MailObsolete(f"{model.__tablename__} {ident} is gone")
    return record
