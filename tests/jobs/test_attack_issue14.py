"""Issue 14 attacked through the mail worker (R-X-1): a garage's own words end up in mail
headers — its name is in the subject of the activation, inspection and (new in issue 14)
garage-e-mail-changed mails."""

from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import OutboxMessage
from admin_app.services.outbox import queue_mail
from tests.jobs.test_outbox import _deliver, smtp  # noqa: F401 (the SMTP sink fixture)


def test_issue14_attack_a_subject_with_a_line_break_neither_injects_nor_stops_the_outbox(
    app,
    world,
    smtp,  # noqa: F811
):
    """R-X-1: a subject is one header line. A line break in it (a garage named
    "Jansen<CR><LF>Bcc: …" through a crafted settings post, in an activation mail's subject)
    made the worker raise for that mail and stop the whole batch: every mail after it,
    of every garage, stayed unsent at each run. It goes out with the subject on one
    line, no header added, and the mails after it go out too."""
    from admin_app.services.accounts import create_login

    with app.app_context():
        from admin_app.extensions import db

        with unit_of_work(db.session):
            ids = []
            for address, subject in (
                ("jan@example.nl", "Uw auto bij Jansen\r\nBcc: evil@example.org"),
                ("piet@example.nl", "Uw auto bij Jansen"),
            ):
                login = create_login(
                    db.session,
                    username=address,
                    email=address,
                    first_name="Test",
                    last_name=address,
                    role_name="Owner",
                )
                mail = queue_mail(
                    db.session,
                    recipient=address,
                    kind="password_reset",
                    subject=subject,
                    params={"user_id": login.id, "welcome": False},
                )
                ids.append(mail.id)
        db.session.remove()
    _deliver(app)
    world.session.expire_all()
    states = world.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
    assert {m.state for m in states} == {"sent"}
    recipients = [address for m in smtp.messages for address in m.rcpt_tos]
    assert "evil@example.org" not in recipients
    ours = [m for m in smtp.messages if m.rcpt_tos == ["jan@example.nl"]]
    assert len(ours) == 1
    mail = email.message_from_bytes(ours[0].content, policy=policy.default)
    assert mail["Subject"] == "Uw auto bij Jansen Bcc: evil@example.org"
    assert mail["Bcc"] is None


def test_issue14_attack_a_mail_that_cannot_be_put_together_fails_alone(app, world, smtp):  # noqa: F811
    """R-X-1: a mail whose headers cannot be written (here a recipient with a line break,
    as no service stores one) is marked failed with the reason; the mails behind it in
    the batch still go out (the exception stopped the batch, at every run)."""
    with app.app_context():
        from admin_app.extensions import db

        with unit_of_work(db.session):
            ids = [
                queue_mail(
                    db.session,
                    recipient=recipient,
                    kind="garage_email_changed",
                    subject="Het e-mailadres van Jansen is gewijzigd",
                    params={
                        "garage_id": world.garage("Autobedrijf Jansen").id,
                        "old": "oud@example.nl",
                        "new": "nieuw@example.nl",
                        "by": "Gert Jansen",
                    },
                    garage_id=world.garage("Autobedrijf Jansen").id,
                ).id
                for recipient in ("oud@example.nl\r\nBcc: evil@example.org", "nieuw@example.nl")
            ]
        db.session.remove()
    _deliver(app)
    world.session.expire_all()
    broken, fine = (world.session.get(OutboxMessage, i) for i in ids)
    assert broken.state == "failed" and "ValueError" in broken.last_error
    assert fine.state == "sent"
    assert "evil@example.org" not in [a for m in smtp.messages for a in m.rcpt_tos]
