"""Mails as the worker writes them when it sends them (services/mails), for tests that
follow a mailed link without an SMTP server."""

from __future__ import annotations

from contextlib import nullcontext

from flask import has_app_context
from sqlalchemy import select

from admin_app.models import OutboxMessage

APP = None  # set by the app fixture: some tests read mails outside an app context


def last_mail(session) -> OutboxMessage:
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()


def mail_text(session, message: OutboxMessage | None = None) -> str:
    """The text of ``message`` (default: the newest), with a fresh link for its recipient,
    committed as the worker commits it."""
    from admin_app.services.mails import render_mail

    with nullcontext() if has_app_context() else APP.app_context():
        text = render_mail(session, message or last_mail(session)).text
    session.commit()
    return text


def run_queued(app, function, *, perform: bool = True) -> int:
    """Run the queued rq jobs of ``function`` as a worker would (in an app context of their
    own), or only drop them (``perform=False``: jobs earlier tests left behind, whose ids
    mean nothing in this test's database). Other jobs are left alone. Returns how many."""
    from admin_app.extensions import db
    from admin_app.queueing import get_queue

    ran = 0
    with APP.app_context() if app is None else app.app_context():
        queue = get_queue()
        for job in queue.get_jobs():
            if job.func_name != f"{function.__module__}.{function.__qualname__}":
                continue
            try:
                if perform:
                    job.perform()
            finally:
                db.session.remove()
                job.delete()
            ran += 1
    return ran
