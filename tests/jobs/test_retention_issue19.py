"""Issue 19, retention (R-DR-3): the worker's clock empties old mail texts and old
customer-list cells and deletes dead mailed links — across the limits' dates, with the
real clock code and a real database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from admin_app.jobs import retention as retention_job
from admin_app.models import (
    AccessToken,
    AuditLog,
    BatchJob,
    BatchRow,
    Customer,
    OutboxMessage,
)
from admin_app.models.base import utcnow
from admin_app.services import retention
from admin_app.services.audit import describe_entries

DAY = dt.timedelta(days=1)


def _mail(s, garage_id, created, state="sent", subject="De APK van uw AB-12-CD verloopt"):
    mail = OutboxMessage(
        garage_id=garage_id,
        recipient="jan@example.nl",
        kind="apk_reminder",
        subject=subject,
        params={"reminder_id": 7},
        state=state,
        created_at=created,
        sent_at=created if state == "sent" else None,
    )
    s.add(mail)
    return mail


def _run(app, s, now):
    with app.app_context():
        return retention_job.run(s, now, mail_days=90, batch_row_days=180, batch=2)


def test_issue19_mail_bodies_emptied_after_90_days_never_before_nor_when_unsent(app, world):
    """R-DR-3: a finished mail a day past 90 days loses subject and params, keeps
    recipient, kind, state and dates; a day before the limit, or waiting to be sent, it is
    untouched."""
    s, now = world.session, utcnow()
    garage_id = world.garage("Autobedrijf Jansen").id
    old, new = now - 90 * DAY - DAY, now - 90 * DAY + DAY
    mails = {
        "sent_old": _mail(s, garage_id, old),
        "sent_new": _mail(s, garage_id, new),
        "bounced_old": _mail(s, garage_id, old, "bounced"),
        "failed_old": _mail(s, garage_id, old, "failed"),
        "pending_old": _mail(s, garage_id, old, "pending"),
        "sending_old": _mail(s, garage_id, old, "sending"),
    }
    s.commit()

    result = _run(app, s, now)

    s.expire_all()
    emptied = {name for name, mail in mails.items() if mail.subject == ""}
    assert emptied == {"sent_old", "bounced_old", "failed_old"}
    assert result.mail_bodies == 3
    for name, mail in mails.items():
        assert mail.recipient == "jan@example.nl" and mail.kind == "apk_reminder"
        assert mail.params == ({} if name in emptied else {"reminder_id": 7})
    assert mails["bounced_old"].state == "bounced" and mails["sent_old"].sent_at is not None
    # The screens name an emptied mail by its kind (the outbox, a customer's mails).
    with app.test_request_context("/?_l_=nl"):
        shown = mails["sent_old"].subject_text()
    assert shown == "APK-herinnering (tekst verwijderd na de bewaartermijn)"
    # Run again: nothing left to empty.
    assert _run(app, s, now).mail_bodies == 0


def _list(s, garage_id, *, state, finished):
    job = BatchJob(
        garage_id=garage_id,
        filename="klanten.csv",
        uploaded_by="garage-jansen",
        uploaded_at=finished - DAY,
        finished_at=finished,
        state=state,
    )
    s.add(job)
    s.flush()
    valid = BatchRow(
        batch_job_id=job.id,
        row_number=2,
        plate="AB12CD",
        shown_plate="AB-12-CD",
        email="Jan@Example.nl",
        email_key="jan@example.nl",
        first_name="Jan",
        last_name="Vries",
        street="Dorpsstraat",
        house_number="1",
        postcode="1234AB",
        city="Ede",
        phone="0612345678",
        brand="Opel",
        plan="create",
        outcome="created",
    )
    refused = BatchRow(
        batch_job_id=job.id,
        row_number=3,
        plate="JAN DE VRIES",
        email="jan@@example",
        email_key="jan@@example",
        valid=False,
        values={"plate": "JAN DE VRIES", "email": "jan@@example", "last_name": "Vries"},
        plan="refused",
        outcome="refused",
        reason_code="plate_invalid email_invalid",
        reason_params=[
            ["plate_invalid", {"plate": "JAN DE VRIES"}],
            ["email_invalid", {"email": "jan@@example"}],
        ],
    )
    s.add_all([valid, refused])
    return job, valid, refused


def test_issue19_customer_list_cells_emptied_after_180_days_outcome_and_reason_stay(app, world):
    """R-DR-3: rows of a list finished a day past 180 days lose their typed cells (and
    the values their reason quotes); the outcome, the reason and a valid row's vehicle
    facts stay. A list finished a day before the limit, or confirmed and not yet run, is
    untouched."""
    s, now = world.session, utcnow()
    garage_id = world.garage("Autobedrijf Jansen").id
    _, old_valid, old_refused = _list(s, garage_id, state="done", finished=now - 181 * DAY)
    _, new_valid, _ = _list(s, garage_id, state="done", finished=now - 179 * DAY)
    _, waiting, _ = _list(s, garage_id, state="scheduled", finished=now - 181 * DAY)
    s.commit()

    result = _run(app, s, now)

    s.expire_all()
    assert result.batch_rows == 2
    assert (old_valid.email, old_valid.email_key, old_valid.values) == ("", "", None)
    assert old_valid.first_name is old_valid.last_name is old_valid.phone is None
    assert old_valid.street is old_valid.postcode is old_valid.city is None
    assert (old_valid.plate, old_valid.brand, old_valid.outcome) == ("AB12CD", "Opel", "created")
    assert (old_refused.plate, old_refused.email, old_refused.values) == ("", "", None)
    assert old_refused.outcome == "refused"
    with app.test_request_context():
        reason = old_refused.reason_text()
    assert "JAN" not in reason and "jan@" not in reason and "…" in reason
    for untouched in (new_valid, waiting):
        assert untouched.email == "Jan@Example.nl" and untouched.last_name == "Vries"
    assert _run(app, s, now).batch_rows == 0


def _token(s, n, *, purpose="password_reset", used=None, expires, subject_id=None, user_id=None):
    token = AccessToken(
        purpose=purpose,
        token_hash=f"{n:064d}",
        recipient="jan@example.nl",
        subject_id=subject_id,
        user_id=user_id,
        expires_at=expires,
        used_at=used,
    )
    s.add(token)
    return token


def test_issue19_used_expired_and_replaced_links_deleted_live_and_stop_links_stay(app, world):
    """R-DR-3: a used link, an expired one (a second past) and one a newer link replaced
    are deleted; an unused live link, and an opt-out link a newer one does not replace,
    stay until they expire."""
    s, now = world.session, utcnow()
    user_id = world.user("garage-jansen").id
    tokens = {
        "used": _token(s, 1, used=now - DAY, expires=now + DAY, user_id=user_id),
        "expired": _token(s, 2, expires=now - dt.timedelta(seconds=1), subject_id=41),
        "replaced": _token(s, 3, purpose="activation", expires=now + DAY, subject_id=42),
        "newest": _token(s, 4, purpose="activation", expires=now + DAY, subject_id=42),
        "live": _token(s, 5, expires=now + dt.timedelta(seconds=1), subject_id=43),
        "opt_out_1": _token(s, 6, purpose="opt_out", expires=now + DAY, subject_id=44),
        "opt_out_2": _token(s, 7, purpose="opt_out", expires=now + DAY, subject_id=44),
    }
    s.commit()
    ids = {name: token.id for name, token in tokens.items()}

    result = _run(app, s, now)

    s.expire_all()
    left = set(s.scalars(select(AccessToken.id)))
    assert {name for name, i in ids.items() if i in left} == {
        "newest",
        "live",
        "opt_out_1",
        "opt_out_2",
    }
    assert result.links == 3


def test_issue19_the_clock_runs_retention_once_a_day_with_one_audit_entry(app, world, monkeypatch):
    """R-DR-3: the worker's clock runs it (any hour after the night's start: RUN_HOUR set
    to 0 so the test passes at any hour), once per day however often it ticks, and logs
    one entry that reads in words."""
    from admin_app.domain.clock import local_today
    from admin_app.jobs.clock import tick
    from admin_app.queueing import get_redis

    s, now = world.session, utcnow()
    monkeypatch.setattr(retention, "RUN_HOUR", 0)
    get_redis(app).delete(f"console:{app.config['RQ_QUEUE']}:retention:{local_today(now)}")
    mail = _mail(s, world.garage("Autobedrijf Jansen").id, now - 91 * DAY)
    s.commit()

    tick(app)
    s.expire_all()
    assert mail.subject == ""
    second = _mail(s, mail.garage_id, now - 91 * DAY)
    s.commit()
    tick(app)
    s.expire_all()
    assert second.subject != ""  # claimed for today already

    entries = s.scalars(select(AuditLog).where(AuditLog.table_name == "retention")).all()
    assert len(entries) == 1 and entries[0].actor_name == "job:retention"
    with app.test_request_context("/?_l_=nl"):
        (described,) = describe_entries(s, entries)
        words = f"{described.what} {described.changes_text}"
    assert "retention" not in words and "mail_bodies" not in words
    assert "Mailteksten geleegd: 1" in words, words
    assert "Gemailde links verwijderd: 0" in words, words


def test_issue19_a_list_never_confirmed_is_cancelled_after_30_days_and_its_file_dropped(app, world):
    """R-DR-3: a preview nobody confirmed for 30 days (or a list whose reading was lost
    with its worker) is cancelled and its uploaded file dropped; its cells then go as a
    cancelled list's, from its upload. A preview of 29 days and a confirmed list stay, and
    a night with nothing to do writes no audit entry."""
    from admin_app.services import erasure

    s, now = world.session, utcnow()
    garage_id = world.garage("Autobedrijf Jansen").id
    jobs = {}
    for name, state, days in (
        ("forgotten", "preview", 31),
        ("lost_reading", "previewing", 31),
        ("ancient", "preview", 200),
        ("recent", "preview", 29),
        ("confirmed", "scheduled", 31),
    ):
        job, row, _ = _list(s, garage_id, state=state, finished=now - days * DAY + DAY)
        job.finished_at, job.upload = None, b"kenteken;email\nAB12CD;jan@example.nl\n"
        jobs[name] = (job, row)
    s.commit()
    customer = Customer(garage_id=garage_id, last_name="Vries", email="Jan@Example.nl")
    s.add(customer)
    s.commit()
    refused = erasure.refusal(s, [customer])
    assert "klanten.csv, Autobedrijf Jansen" in str(refused)

    result = _run(app, s, now)

    s.expire_all()
    states = {name: job.state for name, (job, _) in jobs.items()}
    assert states == {
        "forgotten": "cancelled",
        "lost_reading": "cancelled",
        "ancient": "cancelled",
        "recent": "preview",
        "confirmed": "scheduled",
    }
    assert result.lists_cancelled == 3
    uploads = {
        name: s.scalar(select(BatchJob.upload).where(BatchJob.id == job.id))
        for name, (job, _) in jobs.items()
    }
    assert uploads["forgotten"] is uploads["lost_reading"] is uploads["ancient"] is None
    assert uploads["recent"] is not None and uploads["confirmed"] is not None
    # Cancelled a month after its upload: its cells wait for their 180 days; the one
    # uploaded 200 days ago goes the same night.
    assert jobs["forgotten"][1].email == "Jan@Example.nl"
    assert jobs["ancient"][1].email == "" and jobs["ancient"][1].first_name is None
    # The forgotten lists no longer block his erase; the recent preview and the confirmed
    # list still do, and are named.
    refused = str(erasure.refusal(s, [customer]))
    assert refused.count("klanten.csv") == 2

    def entries():
        return s.scalars(select(AuditLog).where(AuditLog.table_name == "retention")).all()

    assert len(entries()) == 1
    assert _run(app, s, now).lists_cancelled == 0
    assert len(entries()) == 1, "a night with nothing to do leaves no entry"
