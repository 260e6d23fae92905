"""Issue 14, R-PP-5 over real SMTP: a refusal at RCPT marks the address (audited) and
withdraws its open proposals; an invitation is not sent to it any more, while the mails a
customer needs (here a password reset) are still attempted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import AuditLog, ContactProposal, Customer, OutboxMessage, Passport
from admin_app.services import proposals
from admin_app.services.outbox import queue_mail
from tests.jobs.test_outbox import _deliver, _queue, smtp  # noqa: F401 (smtp is a fixture)

ADDRESS = "bounce@example.nl"  # the sink answers 550 at RCPT


def test_issue14_a_refused_address_is_marked_audited_and_gets_no_invitation(app, world, smtp):  # noqa: F811
    s = world.session
    car = next(
        p
        for p in world.passports(garage_id=world.garage("Autobedrijf Jansen").id)
        if p.state == "activated" and not p.stock_car
    )
    car.owner.email = ADDRESS
    week = proposals.open_week(dt.datetime.now(dt.UTC))
    proposal = ContactProposal(
        garage_id=car.garage_id,
        week=week,
        week_start=proposals.week_monday(week),
        customer_id=car.owner_id,
        passport_id=car.id,
        reason="periodic",
        predicted_date=proposals.week_monday(week),
        decision="yes",
    )
    s.add(proposal)
    s.commit()
    before = s.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))

    (reset,) = _queue(app, world, [ADDRESS])
    _deliver(app)
    s.expire_all()
    assert s.get(OutboxMessage, reset).state == "bounced"
    assert s.get(Customer, car.owner_id).email_bounced_at is not None
    marks = s.scalars(
        select(AuditLog).where(
            AuditLog.id > before,
            AuditLog.table_name == "customer",
            AuditLog.record_id == car.owner_id,
        )
    ).all()
    assert [(m.actor_name, list(m.changes)) for m in marks] == [
        ("job:mail-delivery", ["email_bounced_at"])
    ]
    assert s.get(ContactProposal, proposal.id).decision == "no"  # withdrawn

    with app.app_context(), unit_of_work(s):  # the commit hands the mails to the worker
        invitation = queue_mail(
            s,
            recipient=ADDRESS,
            kind="invitation",
            subject="Uitnodiging",
            params={"proposal_id": proposal.id},
            garage_id=car.garage_id,
        ).id
        again = queue_mail(
            s,
            recipient=ADDRESS,
            kind="password_reset",
            subject="Nieuw wachtwoord",
            params={"user_id": world.user(ADDRESS).id, "welcome": False},
        ).id
    _deliver(app)
    s.expire_all()
    not_sent = s.get(OutboxMessage, invitation)
    assert not_sent.state == "failed" and "bounced" in not_sent.last_error
    # The reset is still tried at the server (which refuses it again).
    assert s.get(OutboxMessage, again).state == "bounced"
    assert s.get(OutboxMessage, again).attempts == 1
    assert s.get(Passport, car.id).owner.email_bounced_at is not None
