"""The one worker entry point: builds the app once, ticks the clock, runs rq jobs.

python -m admin_app.jobs.worker
"""

from __future__ import annotations

import logging
import sys
import threading

from rq import SimpleWorker

from admin_app import create_app
from admin_app.extensions import db
from admin_app.jobs import clock
from admin_app.queueing import get_queue, get_redis
from config import ConfigurationError

log = logging.getLogger(__name__)


class ConsoleWorker(SimpleWorker):
    """Runs jobs in this process, inside the app context pushed in main(); jobs are
    small (ids in, set-based SQL), so a fork per job buys nothing. Each job gets a
    fresh database session."""

    def perform_job(self, job, queue):
        # The id of the request that queued the job (ConsoleQueue), to follow it here;
        # the JSON handler adds it to the job's own lines as well.
        log.info("job %s started", job.func_name, extra={"request_id": job.meta.get("request_id")})
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
