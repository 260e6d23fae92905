"""The outbox (R-X-1): a mail is a row written in its cause's transaction.

After the transaction commits, the rows are handed to the worker (admin_app.jobs.mail,
queued by name); if that hand-over is lost, the worker's clock finds them anyway.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from admin_app import queueing
from admin_app.models import OutboxMessage

_NEW_MAIL = "outbox_new_ids"


def queue_mail(
    session: Session,
    *,
    recipient: str,
    kind: str,
    subject: str,
    params: dict,
    garage_id: int | None = None,
) -> OutboxMessage:
    """A mail of ``kind`` about the records in ``params`` (ids only: services/mails writes
    its text and link when it is sent)."""
    message = OutboxMessage(
        recipient=recipient, kind=kind, subject=str(subject), params=params, garage_id=garage_id
    )
    session.add(message)
    session.flush()
    session.info.setdefault(_NEW_MAIL, set()).add(message.id)
    return message


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_NEW_MAIL, None)
    if ids:
        hand_over()


def hand_over() -> None:
    """Ask a worker to send the outbox now; the clock covers a lost hand-over. Without an
    SMTP server nothing is sent, so nothing is asked."""
    if current_app.config.get("SMTP_HOST"):
        queueing.hand_over("admin_app.jobs.mail.deliver_due", what="mail delivery")


def _after_rollback(session: Session) -> None:
    session.info.pop(_NEW_MAIL, None)


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", lambda s, t: _after_rollback(s))
