from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow


class OutboxState(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    bounced = "bounced"
    failed = "failed"
    # Never sent: its recipient's data was erased before it went out (issue 19, R-DR-2).
    cancelled = "cancelled"


STATE_LABELS = {
    OutboxState.pending.value: _l("Not sent (waiting)"),
    OutboxState.sending.value: _l("Sending"),
    OutboxState.sent.value: _l("Sent"),
    OutboxState.bounced.value: _l("Address refused (bounced)"),
    OutboxState.failed.value: _l("Failed"),
    OutboxState.cancelled.value: _l("Cancelled: recipient's data erased"),
}


class MailKind(enum.StrEnum):
    """What a mail is about (``OutboxMessage.kind``): services/mails renders each."""

    activation = "activation"
    driver_access = "driver_access"
    transfer_notice = "transfer_notice"
    password_reset = "password_reset"
    inspection = "inspection"
    invitation = "invitation"
    garage_email_changed = "garage_email_changed"
    webhook_disabled = "webhook_disabled"
    apk_reminder = "apk_reminder"
    apk_digest = "apk_digest"
    # Issue 18: the new owner's one reminder, and the starter told how a transfer ended.
    transfer_reminder = "transfer_reminder"
    transfer_accepted = "transfer_accepted"
    transfer_expired = "transfer_expired"


KIND_LABELS = {
    MailKind.activation.value: _l("Activation"),
    MailKind.driver_access.value: _l("Access for the driver"),
    MailKind.transfer_notice.value: _l("Transfer notice"),
    MailKind.password_reset.value: _l("Password link"),
    MailKind.inspection.value: _l("Inspection form"),
    MailKind.invitation.value: _l("Invitation"),
    MailKind.garage_email_changed.value: _l("Garage e-mail changed"),
    MailKind.webhook_disabled.value: _l("Webhook endpoint switched off"),
    MailKind.apk_reminder.value: _l("APK reminder"),
    MailKind.apk_digest.value: _l("APK overview for a fleet"),
    MailKind.transfer_reminder.value: _l("Transfer reminder"),
    MailKind.transfer_accepted.value: _l("Transfer accepted"),
    MailKind.transfer_expired.value: _l("Transfer expired"),
}


# Issue 19: a finished mail's subject and parameters are emptied after its retention days.
EMPTIED_SUBJECT = _l("%(kind)s (text removed after its retention period)")


class OutboxMessage(Model):
    """A mail, written in the same transaction as its cause and sent by a worker (R-X-1).

    It holds what the mail is about (``params``: ids, never a token or a link); the worker
    writes its text, HTML and any link at send time (services/mails), so no row of the
    database is a working link.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        # A customer's mails, whatever the case of the address (the passport profile).
        Index("ix_outbox_recipient_lower", func.lower("recipient")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("garage.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    params: Mapped[Any] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(
        String(12), nullable=False, default=OutboxState.pending.value
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))

    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    def subject_text(self) -> str:
        """The subject; once retention emptied it (issue 19, services/retention), what the
        mail was about, saying that its text is gone."""
        if self.subject:
            return self.subject
        return str(EMPTIED_SUBJECT) % {"kind": self.kind_label()}
