"""Issue 8: two web processes and two rq workers on one database and one Redis. A list
uploaded through one web process and confirmed through the other is claimed by the
nightly tick once and processed exactly once, whichever worker ticks first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import requests
from rq.registry import FinishedJobRegistry
from sqlalchemy import update

from admin_app.models import BatchJob
from tests.jobs.test_batch_worker import MAKE_LIST, assert_created_once, wait_for, worker
from tests.mailsink import free_port


def web_process(app, port):
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        RQ_QUEUE=app.config["RQ_QUEUE"],
        CONSOLE_ENV="development",
        SECRET_KEY=app.config["SECRET_KEY"],  # one key: a token from one process is valid
        AUTH_RATE_LIMIT="1000 per second",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "admin_app:create_app",
            "run",
            "--port",
            str(port),
            "--no-reload",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def api_login(base):
    for _ in range(200):
        try:
            answer = requests.post(
                f"{base}/api/v1/security/login",
                json={"username": "garage-devries", "password": "demo", "provider": "db"},
                timeout=5,
            )
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{base} did not start")


def test_a_confirmed_job_is_claimed_once_and_processed_once_by_two_workers(app, world, tmp_path):
    listing = tmp_path / "lijst.csv"
    expected = json.loads(
        subprocess.run(
            [sys.executable, str(MAKE_LIST), "1500", str(listing), "--bad-every", "50"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    from admin_app.queueing import get_queue

    def finished_runs() -> set[str]:
        with app.app_context():
            return set(FinishedJobRegistry(queue=get_queue(app)).get_job_ids())

    earlier = finished_runs()  # Redis outlives the database of earlier tests (ids repeat)
    ports = [free_port(), free_port()]
    webs = [web_process(app, port) for port in ports]
    workers = []
    try:
        first, second = (f"http://127.0.0.1:{port}" for port in ports)
        uploaded = requests.post(
            f"{first}/api/v1/batch_job/",
            headers=api_login(first),
            files={"file": ("lijst.csv", listing.read_bytes())},
            data={"send_to_customers": "true"},
            timeout=60,
        )
        assert uploaded.status_code == 201, uploaded.text
        job_id = uploaded.json()["id"]
        confirmed = requests.post(
            f"{second}/api/v1/batch_job/{job_id}/confirm", headers=api_login(second), timeout=30
        )
        assert confirmed.json()["result"]["state"] == "scheduled"
        s = world.session
        # The night has come: the job's 01:00 is now in the past.
        s.execute(
            update(BatchJob).where(BatchJob.id == job_id).values(scheduled_for=BatchJob.uploaded_at)
        )
        s.commit()
        # A long stale limit: here a running job must never look abandoned.
        workers = [worker(app, BATCH_STALE_SECONDS="600") for _ in "ab"]

        def finished():
            s.expire_all()
            return s.get(BatchJob, job_id).state == "done"

        wait_for(finished, 120, "the job to be done")
        time.sleep(1.0)  # a few more ticks of both clocks: nothing may run it again
    finally:
        for process in workers + webs:
            process.terminate()
            process.wait(timeout=10)
    s.expire_all()
    job = s.get(BatchJob, job_id)
    assert job.counts["create"] == expected["valid"]
    assert_created_once(s, job_id, expected["valid"])  # written once, not per worker
    runs = [job for job in finished_runs() - earlier if job.startswith(f"batch-{job_id}-")]
    assert len(runs) == 1, runs  # claimed by one tick of one worker
