"""Issue 20: services/retention only works a batch and yields; its job (jobs/retention)
commits after each one. What must stay (R-DR-3): a run that fails halfway keeps the
batches it finished, and the next night goes on from there."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from admin_app.jobs import retention as retention_job
from admin_app.models import AuditLog
from admin_app.models.base import utcnow
from admin_app.services import retention
from tests.jobs.test_retention_issue19 import _mail

DAY = dt.timedelta(days=1)


def test_issue20_a_run_that_fails_halfway_keeps_the_batches_it_committed(app, world, monkeypatch):
    """R-DR-3 through issue 20's job: a failure after two batches of two mails leaves
    those four emptied for good and writes no audit entry; the next run empties the rest."""
    s, now = world.session, utcnow()
    garage_id = world.garage("Autobedrijf Jansen").id
    old = [_mail(s, garage_id, now - 91 * DAY) for _ in range(6)]
    s.commit()
    entries = s.scalar(select(func.count()).select_from(AuditLog))
    empty_mail_bodies = retention.empty_mail_bodies

    def failing_after_two(*args):
        for number, emptied in enumerate(empty_mail_bodies(*args), start=1):
            yield emptied
            if number == 2:
                raise RuntimeError("the worker stopped")

    monkeypatch.setattr(retention, "empty_mail_bodies", failing_after_two)
    with app.app_context(), pytest.raises(RuntimeError):
        retention_job.run(s, now, mail_days=90, batch_row_days=180, batch=2)
    s.rollback()

    s.expire_all()
    assert sorted(mail.subject == "" for mail in old) == [False] * 2 + [True] * 4
    assert s.scalar(select(func.count()).select_from(AuditLog)) == entries
    monkeypatch.setattr(retention, "empty_mail_bodies", empty_mail_bodies)
    with app.app_context():
        assert retention_job.run(s, now, mail_days=90, batch_row_days=180, batch=2).mail_bodies == 2
    s.expire_all()
    assert all(mail.subject == "" for mail in old)
