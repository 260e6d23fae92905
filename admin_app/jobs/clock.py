"""The worker's clock: every TICK_SECONDS it runs what is due.

A loop in the worker process rather than rq's in-memory cron: what is due is read from
the database, so a restart catches up and several workers may tick at once (each piece
of due work is claimed atomically).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from admin_app.extensions import db

log = logging.getLogger(__name__)


def tick(app: Flask) -> None:
    from admin_app.jobs.mail import deliver_due

    with app.app_context():
        try:
            deliver_due()
        except Exception:
            log.exception("clock tick failed")
        finally:
            db.session.remove()


def start(app: Flask, stop: threading.Event) -> threading.Thread:
    interval = app.config["TICK_SECONDS"]

    def run() -> None:
        while not stop.wait(interval):
            tick(app)

    thread = threading.Thread(target=run, name="console-clock", daemon=True)
    thread.start()
    return thread
