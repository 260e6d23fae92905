"""The one worker entry point: builds the app once, ticks the clock, runs rq jobs.

python -m admin_app.jobs.worker
"""

from __future__ import annotations

import sys
import threading

from rq import SimpleWorker

from admin_app import create_app
from admin_app.extensions import db
from admin_app.jobs import clock
from admin_app.queueing import get_queue, get_redis
from config import ConfigurationError


class ConsoleWorker(SimpleWorker):
    """Runs jobs in this process, inside the app context pushed in main(); jobs are
    small (ids in, set-based SQL), so a fork per job buys nothing. Each job gets a
    fresh database session."""

    def perform_job(self, job, queue):
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()


def main() -> None:
    try:
        app = create_app()
    except ConfigurationError as error:
        sys.exit(f"The worker did not start: {error}")  # a message, not a traceback
    stop = threading.Event()
    with app.app_context():
        clock.start(app, stop)
        queue = get_queue(app)
        worker = ConsoleWorker([queue], connection=get_redis(app))
        try:
            worker.work(with_scheduler=False)
        finally:
            stop.set()


if __name__ == "__main__":
    main()
