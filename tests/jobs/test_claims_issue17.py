"""Issue 17, claims that never run twice, with two real worker processes on PostgreSQL:
a batch job waiting in the rq queue past the stale time runs once (R-BJ-6), and behind a
relay taking 2 s per message, with a mail stale time of 5 s, each mail goes out once (R-X-1).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from admin_app.db import unit_of_work
from admin_app.models import BatchJob
from admin_app.services import batch_jobs
from tests.conftest import DB_KIND
from tests.jobs.test_batch_worker import MAKE_LIST, assert_created_once, wait_for, worker
from tests.jobs.test_outbox import _queue, _states, _worker_env
from tests.mailsink import MailSink

pytestmark = pytest.mark.skipif(
    DB_KIND != "postgresql", reason="two live workers claiming rows: PostgreSQL's SKIP LOCKED"
)


def test_issue17_a_job_waiting_in_the_queue_past_the_stale_time_runs_once(
    app, world, acting_as, tmp_path
):
    """R-BJ-6: queued, then queued again when it still waited past the stale time; two
    workers take the two copies and the job runs once: one claim, each row written once."""
    out = tmp_path / "lijst.csv"
    made = subprocess.run(
        [sys.executable, str(MAKE_LIST), "600", str(out), "--bad-every", "50"],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(made.stdout.strip().splitlines()[-1])
    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            job = batch_jobs.upload_list(
                s,
                actor=acting.actor,
                filename="lijst.csv",
                data=out.read_bytes(),
                send_to_customers=False,
                chunk_size=50,
            )
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    job_id = job.id
    with acting_as("support") as acting, unit_of_work(s):
        batch_jobs.run_now(s, job_id, actor=acting.actor)

    from admin_app.extensions import db
    from admin_app.jobs.batch import enqueue_due_jobs

    # No worker yet: the job waits in the queue, past a stale time of 1 s, and is queued again.
    with app.app_context():
        app.config["BATCH_STALE_SECONDS"] = 1
        try:
            assert enqueue_due_jobs() == [job_id]
            time.sleep(1.2)
            assert enqueue_due_jobs() == [job_id]
        finally:
            app.config["BATCH_STALE_SECONDS"] = 600
            db.session.remove()
    s.expire_all()
    assert s.get(BatchJob, job_id).state == "scheduled"

    # The workers' own stale time is long: a running job must not look abandoned here.
    workers = [worker(app, BATCH_STALE_SECONDS="600") for _ in "ab"]
    try:

        def finished():
            s.expire_all()
            return s.get(BatchJob, job_id).state == "done"

        wait_for(finished, 60, "the job to be done")
        time.sleep(1.0)  # the second copy has been taken by now: it must do nothing
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=10)
    s.expire_all()
    job = s.get(BatchJob, job_id)
    assert job.claimed_by and job.counts["create"] == expected["valid"]
    assert_created_once(s, job_id, expected["valid"])  # written once, not per worker


def test_issue17_a_slow_relay_gets_each_mail_once_from_two_workers(app, world):
    """R-X-1: 2 s per message, a claim stale after 5 s, two live workers: every mail is
    delivered exactly once (claimed as a batch, the tail went stale and was sent again)."""
    sink = MailSink(delay=2).start()
    recipients = [f"traag{i}@example.nl" for i in range(6)]
    ids = _queue(app, world, recipients)
    env = {**_worker_env(app, sink.port), "MAIL_STALE_SECONDS": "5"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "admin_app.jobs.worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in "ab"
    ]
    try:
        wait_for(
            lambda: {m.state for m in _states(world, ids).values()} == {"sent"},
            40,
            "every mail sent",
        )
        time.sleep(3)  # would a second copy still arrive?
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=10)
        sink.stop()
    delivered = sorted(m.rcpt_tos[0] for m in sink.messages if m.rcpt_tos[0] in recipients)
    assert delivered == sorted(recipients)
