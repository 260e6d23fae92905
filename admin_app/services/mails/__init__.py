"""What each kind of mail says, written by the worker when it sends the mail (R-X-1).

An outbox row holds a mail's kind, recipient, subject and the ids it is about. At send
time one renderer per kind reads the records, makes the mail's link (services/tokens: a
fresh token for the address the mail goes to) and writes the text; the HTML part is the
same text in the console's mail layout, under the garage's name and logo. So a mail never
waits in the database with a working link in it, and a link is always made for the address
it is really sent to. Customers get Dutch mail, whatever the language of the screen that
caused it. Every mail opens with `greeting`: the name as stored, never a guessed "heer" or
"mevrouw".

- `rendering`: `render_mail` and what every renderer uses (`greeted`, `new_link`, …);
- `kinds`: one renderer per kind (copy one there to add a kind).

Callers import from here: ``from admin_app.services.mails import render_mail``.
"""

from __future__ import annotations

# Imported for its renderers: each registers itself in RENDERERS.
from admin_app.services.mails import kinds  # noqa: F401
from admin_app.services.mails.rendering import (
    RENDERERS,
    InlineImage,
    MailBody,
    MailObsolete,
    RenderedMail,
    greeted,
    greeting,
    login_name,
    public_url,
    render_mail,
    renders,
    sending_domain,
    signature,
)

__all__ = [
    "RENDERERS",
    "InlineImage",
    "MailBody",
    "MailObsolete",
    "RenderedMail",
    "greeted",
    "greeting",
    "login_name",
    "public_url",
    "render_mail",
    "renders",
    "sending_domain",
    "signature",
]
