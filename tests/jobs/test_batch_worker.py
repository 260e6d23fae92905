"""R-BJ-6 with a real worker process: killed with SIGKILL after a committed chunk, a new
worker takes the job over and ends with exactly the expected rows, none lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.models import AuditLog, BatchJob, BatchRow, Passport
from admin_app.services import batch_jobs

MAKE_LIST = Path(__file__).resolve().parents[1] / "data" / "make_customer_list.py"


def worker(app, **extra):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "CONSOLE_ENV": "development",
        "SECRET_KEY": app.config["SECRET_KEY"],  # not instance/secret_key: `make run` makes it
        "TICK_SECONDS": "0.2",
        "BATCH_STALE_SECONDS": "1",
        "SMTP_HOST": "",
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "admin_app.jobs.worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_r_bj_6_worker_killed_mid_job_resumes_without_losing_or_doubling(
    app, world, acting_as, tmp_path
):
    out = tmp_path / "lijst.csv"
    expected = json.loads(
        subprocess.run(
            [sys.executable, str(MAKE_LIST), "4000", str(out), "--bad-every", "50"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            job = batch_jobs.upload_list(
                s,
                actor=acting.actor,
                filename="lijst.csv",
                data=out.read_bytes(),
                send_to_customers=False,
                chunk_size=50,  # killed after a few of many chunks
            )
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    job_id = job.id
    with acting_as("support") as acting, unit_of_work(s):
        batch_jobs.run_now(s, job_id, actor=acting.actor)

    def done_rows():
        s.expire_all()
        return s.get(BatchJob, job_id).done_rows

    first = worker(app)
    try:
        wait_for(lambda: done_rows() > 0, 60, "a first committed chunk")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = done_rows()
    assert 0 < killed_at < expected["rows"], "killed in the middle"
    assert s.get(BatchJob, job_id).state == "running"

    second = worker(app)
    try:
        wait_for(
            lambda: done_rows() is not None and s.get(BatchJob, job_id).state == "done",
            120,
            "the job to finish",
        )
    finally:
        second.terminate()
        second.wait(timeout=10)

    s.expire_all()
    job = s.get(BatchJob, job_id)
    assert job.counts["create"] == expected["valid"]
    assert job.counts["refused"] == expected["refused"] + expected["duplicate_plate"]
    assert (
        s.scalar(
            select(func.count())
            .select_from(BatchRow)
            .where(BatchRow.batch_job_id == job_id, BatchRow.outcome.is_(None))
        )
        == 0
    )
    plates = s.scalars(
        select(Passport.plate).where(
            Passport.created_via == "list",
            Passport.plate.in_(select(BatchRow.plate).where(BatchRow.batch_job_id == job_id)),
        )
    ).all()
    assert len(plates) == len(set(plates)) == expected["valid"]


def assert_created_once(s, job_id: int, valid: int) -> None:
    """Every valid row of the list became one passport, audited once (not per worker)."""
    plates = s.scalars(
        select(Passport.plate).where(
            Passport.plate.in_(select(BatchRow.plate).where(BatchRow.batch_job_id == job_id))
        )
    ).all()
    assert len(plates) == len(set(plates)) == valid
    audited = s.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.table_name == "passport",
            AuditLog.action == "insert",
            AuditLog.actor_name.startswith(f"job:batch {job_id} "),
        )
    )
    assert audited == valid
