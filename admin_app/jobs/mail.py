"""Sending the outbox over SMTP (R-X-1, R-PP-5).

Delivery is at least once: a message is claimed (pending → sending) in its own commit,
sent, then marked sent. A worker that dies between the two leaves a stale claim that the
clock releases again. Each message is claimed just before it is sent (issue 17): a batch
claimed under one timestamp went stale at its tail behind a slow relay, and a second live
worker sent that tail again. Only a refusal of the recipient at RCPT with 550, 551 or 553
marks the address bounced; anything else is retried with the configured backoff.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app

from admin_app.domain.clock import AMSTERDAM
from admin_app.extensions import db
from admin_app.jobs.claiming import claim_next
from admin_app.models import OutboxMessage
from admin_app.models.base import utcnow
from admin_app.models.outbox import OutboxState
from admin_app.services.audit import Actor
from admin_app.services.bounces import mark_bounced
from admin_app.services.mails import MailObsolete, RenderedMail, render_mail, sending_domain

log = logging.getLogger(__name__)

BOUNCE_CODES = {550, 551, 553}
# Messages one run sends at most; each is claimed on its own just before it is sent.
BATCH = 200
# Header lines up to RFC 5322's hard limit of 998: folded at 78, the stdlib would write a
# List-Unsubscribe link longer than a line as an encoded word, which no mail program reads.
MAIL_POLICY = policy.default.clone(max_line_length=998)


def _claim_next(session, now: datetime) -> OutboxMessage | None:
    """Claim the next due message (or one whose claim went stale) for this worker alone."""
    return claim_next(
        session,
        OutboxMessage,
        now=now,
        stale_after=timedelta(seconds=current_app.config["MAIL_STALE_SECONDS"]),
        waiting=OutboxState.pending.value,
        busy=OutboxState.sending.value,
    )


def _open_smtp(config) -> smtplib.SMTP:
    smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
    if config.get("SMTP_STARTTLS"):
        smtp.starttls()
    if config.get("SMTP_USER"):
        smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    return smtp


def _as_email(message: OutboxMessage, sender: str, rendered: RenderedMail) -> EmailMessage:
    """Text and HTML as alternatives; the HTML with the garage's logo as an inline part
    (multipart/related) when it has one."""
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = sender
    mail["To"] = message.recipient
    # One header line: a subject holds a garage's name as typed, and a line break in a
    # header is refused by the email package (or, sent raw, would add a header).
    mail["Subject"] = " ".join(message.subject.split())
    mail["Date"] = format_datetime(utcnow().astimezone(AMSTERDAM))
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=sending_domain())
    if rendered.reply_to:
        mail["Reply-To"] = rendered.reply_to
    if rendered.unsubscribe:
        # One-click unsubscribe (RFC 8058); the relay must DKIM-sign both (README).
        mail["List-Unsubscribe"] = f"<{rendered.unsubscribe}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    if rendered.logo:
        html = mail.get_body(preferencelist=("html",))
        assert html is not None, "the html alternative was added above"
        logo = rendered.logo
        html.add_related(logo.data, logo.maintype, logo.subtype, cid=logo.cid, disposition="inline")
    return mail


def _retry_later(message: OutboxMessage, error: str, now: datetime) -> None:
    backoff = current_app.config["OUTBOX_BACKOFF"]
    message.attempts += 1
    message.last_error = error[:500]
    message.claimed_at = None
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.state = OutboxState.failed.value
    else:
        message.state = OutboxState.pending.value
        delay = backoff[min(message.attempts - 1, len(backoff) - 1)]
        message.next_attempt_at = now + timedelta(seconds=delay)


def _mark_bounced(session, message: OutboxMessage, code: int, text: str, now: datetime) -> None:
    message.attempts += 1
    message.state = OutboxState.bounced.value
    message.last_error = f"{code} {text}"[:500]
    mark_bounced(session, message.recipient, now=now, actor=Actor.job("mail-delivery"))


def deliver_due(now: datetime | None = None) -> int:
    """Send every due message; returns how many were delivered."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return 0
    session = db.session
    fixed_now = now  # tests run the clock forward; a worker claims each message at its time
    delivered = 0
    smtp = None
    server_down = None  # the relay's error, once it refused the connection this run
    try:
        for _ in range(BATCH):
            now = fixed_now or utcnow()
            message = _claim_next(session, now)
            if message is None:
                break
            if smtp is None and server_down is None:
                try:
                    smtp = _open_smtp(config)
                except (OSError, smtplib.SMTPException) as exc:
                    server_down = f"SMTP: {exc}"
            if server_down:
                # Every due mail gets its attempt and the error, without a connection each.
                _retry_later(message, server_down, now)
                session.commit()
                continue
            delivered += _send_one(session, smtp, message, config, now)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return delivered


def _send_one(session, smtp, message: OutboxMessage, config, now: datetime) -> int:
    """Write, send and mark one claimed message, committed; 1 if it was delivered."""
    try:
        # Written now, with a link made for this recipient (services/mails).
        rendered = render_mail(session, message)
    except MailObsolete as exc:
        message.state = OutboxState.failed.value
        message.last_error = str(exc)[:500]
        session.commit()
        return 0
    try:
        composed = _as_email(message, config["MAIL_FROM"], rendered)
    except ValueError as exc:
        # A mail that cannot be put together fails alone: raised here, it stopped
        # the batch, and every run after, for every garage's mails behind it.
        message.state = OutboxState.failed.value
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        session.commit()
        return 0
    delivered = 0
    try:
        smtp.send_message(composed)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        if code in BOUNCE_CODES:
            _mark_bounced(session, message, code, detail, now)
        else:
            _retry_later(message, f"{code} {detail}", now)
    except (OSError, smtplib.SMTPException) as exc:
        _retry_later(message, f"SMTP: {exc}", now)
    else:
        message.state = OutboxState.sent.value
        message.attempts += 1
        message.sent_at = utcnow()
        message.last_error = None
        delivered = 1
    # Commit per message: a crash later must not resend what went out.
    session.commit()
    return delivered
