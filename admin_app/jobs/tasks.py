"""rq entry for a bulk task over more than IN_REQUEST_LIMIT passports (issue 15)."""

from __future__ import annotations

import logging

from admin_app.db import unit_of_work
from admin_app.extensions import db
from admin_app.models import Task
from admin_app.services import tasks

log = logging.getLogger(__name__)


def run_task(task_id: int) -> None:
    """One job for the whole task, a commit per chunk: the page shows the progress, and a
    second run (rq delivers at least once) continues at the first row without an outcome."""
    try:
        task = db.session.get(Task, task_id)
        if task is None:
            return
        actor = tasks.task_actor(db.session, task)
        while True:
            with unit_of_work(db.session, actor):
                if not tasks.run_rows(db.session, task_id, actor=actor, limit=tasks.CHUNK):
                    break
    except Exception as exc:
        db.session.rollback()
        log.exception("bulk task %s failed", task_id)
        tasks.fail_task(db.session, task_id, str(exc))
        db.session.commit()
        raise
