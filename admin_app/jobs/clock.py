"""The worker's clock: every TICK_SECONDS it runs what is due.

A loop in the worker process rather than rq's in-memory cron: what is due is read from
the database, so a restart catches up and several workers may tick at once (each piece
of due work is claimed or checked atomically).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from admin_app.extensions import db

log = logging.getLogger(__name__)


def expire_transfers() -> None:
    """Pending transfers past their 14 days give the car back (R-TR-2)."""
    from admin_app.db import unit_of_work
    from admin_app.services.audit import Actor
    from admin_app.services.transfers import expire_transfers as expire

    with unit_of_work(db.session, Actor.job("transfer-expiry")):
        expire(db.session)


def remind_transfers() -> None:
    """Issue 18: the new owner reminded once, 3 days before his accept link expires."""
    from admin_app.db import unit_of_work
    from admin_app.services.audit import Actor
    from admin_app.services.transfers import remind_transfers as remind

    with unit_of_work(db.session, Actor.job("transfer-reminder")):
        remind(db.session)


def deliver_mail() -> None:
    from admin_app.jobs.mail import deliver_due

    deliver_due()


def start_batch_jobs() -> None:
    """Nightly customer lists that are due, and runs a dead worker left behind (R-BJ-4)."""
    from admin_app.jobs.batch import enqueue_due_jobs

    enqueue_due_jobs()


def weekly_proposals() -> None:
    """Monday 06:00 Amsterdam: next week's contact proposals (R-CP-1), once per week."""
    from admin_app.db import unit_of_work
    from admin_app.models.base import utcnow
    from admin_app.services.audit import Actor
    from admin_app.services.proposals import weekly_run

    with unit_of_work(db.session, Actor.job("weekly-proposals")):
        weekly_run(db.session, utcnow())


def close_proposal_weeks() -> None:
    """Sunday 15:00 Amsterdam: the week closes, its "yes" invitations go out (R-CP-2)."""
    from admin_app.db import unit_of_work
    from admin_app.models.base import utcnow
    from admin_app.services.audit import Actor
    from admin_app.services.proposals import close_due_weeks

    with unit_of_work(db.session, Actor.job("proposal-week-close")):
        close_due_weeks(db.session, utcnow())


def apk_reminders() -> None:
    """Every morning: APK reminders to owners, the weekly digest to fleet managers
    (issue 18), claimed once per day."""
    from admin_app.db import unit_of_work
    from admin_app.models.base import utcnow
    from admin_app.services.apk_reminders import daily_run
    from admin_app.services.audit import Actor

    with unit_of_work(db.session, Actor.job("apk-reminders")):
        daily_run(db.session, utcnow())


def refresh_register() -> None:
    """Every night: the register refreshed from RDW's API for the plates the console holds
    (issue 18), claimed once per night here and run by a worker (it takes minutes, which
    would hold up the clock's other work)."""
    from flask import current_app

    from admin_app.db import unit_of_work
    from admin_app.jobs.register import refresh_register as run_refresh
    from admin_app.models.base import utcnow
    from admin_app.queueing import enqueue_after_commit
    from admin_app.services.register_refresh import claim_night

    if not current_app.config.get("RDW_API_URL"):
        return  # off by default
    with unit_of_work(db.session):
        run = claim_night(db.session, utcnow())
        if run is not None:
            db.session.flush()
            enqueue_after_commit(db.session, run_refresh, run.id)


def copy_lost_runs() -> None:
    """Customer-list runs whose worker did not copy them into the counter's search."""
    from admin_app.jobs.batch import copy_lost_runs as copy

    copy()


def purge_exports() -> None:
    """Exported files past their 24 hours are removed (issue 15)."""
    from admin_app.db import unit_of_work
    from admin_app.models.base import utcnow
    from admin_app.services.export_files import purge_expired

    with unit_of_work(db.session):
        purge_expired(db.session, utcnow())


def purge_data_exports() -> None:
    """A customer's data export (issue 19) past its 7 days: its ZIP deleted from disk (the
    row stays, ids only, so its link says "deleted"); one whose build was lost: failed."""
    from admin_app.db import unit_of_work
    from admin_app.models.base import utcnow
    from admin_app.services.data_exports import delete_expired_exports, fail_lost_builds

    now = utcnow()
    with unit_of_work(db.session):
        fail_lost_builds(db.session, now)
        delete_expired_exports(db.session, now)


def purge_idempotency_keys() -> None:
    """Idempotency-Keys past their 24 hours are removed (issue 16)."""
    from admin_app.db import unit_of_work
    from admin_app.models.base import utcnow
    from admin_app.services.idempotency import purge_expired

    with unit_of_work(db.session):
        purge_expired(db.session, utcnow())


def deliver_webhooks() -> None:
    """Webhook deliveries that are due: retries, and any whose hand-over was lost."""
    from admin_app.jobs.webhooks import deliver_due

    deliver_due()


def purge_webhook_logs() -> None:
    """Webhook delivery logs keep 30 days (issue 16)."""
    from admin_app.jobs.webhooks import purge_old

    purge_old()


def apply_retention() -> None:
    """Issue 19 (R-DR-3): every night, customer lists never confirmed cancelled, old mail texts
    and customer-list cells emptied and
    dead mailed links deleted (services/retention), claimed once per day."""
    from flask import current_app

    from admin_app.jobs.retention import run
    from admin_app.models.base import utcnow
    from admin_app.queueing import get_redis
    from admin_app.services import retention

    now = utcnow()
    if not retention.due(now):
        return
    if not retention.claim_day(get_redis(), current_app.config["RQ_QUEUE"], now):
        return
    run(
        db.session,
        now,
        mail_days=current_app.config["MAIL_BODY_RETENTION_DAYS"],
        batch_row_days=current_app.config["BATCH_ROW_RETENTION_DAYS"],
        unconfirmed_list_days=current_app.config["UNCONFIRMED_LIST_DAYS"],
    )


DUE_WORK = (
    expire_transfers,
    remind_transfers,
    start_batch_jobs,
    copy_lost_runs,
    weekly_proposals,
    close_proposal_weeks,
    apk_reminders,
    refresh_register,
    deliver_mail,
    purge_exports,
    purge_data_exports,
    purge_idempotency_keys,
    deliver_webhooks,
    purge_webhook_logs,
    apply_retention,
)


def tick(app: Flask) -> None:
    with app.app_context():
        _record_heartbeat(app)
        for work in DUE_WORK:
            try:
                work()
            except Exception:
                log.exception("clock: %s failed", work.__name__)
            finally:
                db.session.remove()


def _record_heartbeat(app: Flask) -> None:
    """Tell /health (and /metrics) that a worker is alive; before the work, so a slow
    piece of due work does not make a live worker look dead."""
    from admin_app.queueing import get_redis
    from admin_app.services.heartbeat import record_tick

    try:
        record_tick(get_redis(app), app.config["RQ_QUEUE"])
    except Exception:
        log.exception("clock: could not record the tick in Redis")


def start(app: Flask, stop: threading.Event) -> threading.Thread:
    interval = app.config["TICK_SECONDS"]

    def run() -> None:
        while not stop.wait(interval):
            tick(app)

    thread = threading.Thread(target=run, name="console-clock", daemon=True)
    thread.start()
    return thread
