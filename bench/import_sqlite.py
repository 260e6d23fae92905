"""Benchmark: the same 60,000-row customer list on SQLite and on PostgreSQL, in one run
(issue 13: SQLite is `make run`'s database; its target is ≤ 60 s and ≤ 4× PostgreSQL,
with no chunk holding SQLite's write lock over 2 s).

    scripts/with-postgres.sh .venv/bin/python bench/import_sqlite.py

Each database is measured in a fresh process on a fresh database (migrated, roles, demo
data), from upload through the preview (by the worker's function, as for any list over
20,000 rows), confirm and run to `done`, with "send the passports" on. A write
transaction is timed from its first writing statement to its commit: on SQLite that is
how long it holds the one write lock, so how long another garage's save may wait.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_LIST = ROOT / "tests" / "data" / "make_customer_list.py"
ROWS = int(os.environ.get("BENCH_ROWS", "60000"))
WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "REPLACE")


def flask(url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *args],
        check=True,
        cwd=ROOT,
        capture_output=True,
        env=dict(os.environ, DATABASE_URL=url),
    )


def time_write_transactions(phase: dict) -> None:
    """Record, per phase, how long each write transaction lasted (first write → commit)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def first_write(conn, cursor, statement, parameters, context, executemany):
        if "write_started" not in conn.info and statement.lstrip().upper().startswith(WRITES):
            conn.info["write_started"] = time.perf_counter()

    @event.listens_for(Engine, "commit")
    def committed(conn):
        started = conn.info.pop("write_started", None)
        if started is not None:
            phase["holds"].setdefault(phase["name"], []).append(time.perf_counter() - started)

    @event.listens_for(Engine, "rollback")
    def rolled_back(conn):
        conn.info.pop("write_started", None)


def measure(path: str) -> dict:
    """Runs in a child process, against DATABASE_URL: one upload and run to `done`."""
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app

    app = create_app()
    phase: dict = {"name": "preview", "holds": {}}
    time_write_transactions(phase)
    with app.app_context():
        from admin_app import queueing
        from admin_app.db import unit_of_work
        from admin_app.extensions import db
        from admin_app.jobs.batch import make_searchable, preview_in_background, process_job
        from admin_app.models import ConsoleUser
        from admin_app.models.base import utcnow
        from admin_app.services import batch_jobs
        from admin_app.services.audit import Actor

        user = db.session.query(ConsoleUser).filter_by(username="garage-devries").one()
        actor = Actor.of_user(user)
        data = Path(path).read_bytes()
        started = time.perf_counter()
        with unit_of_work(db.session, actor):
            job = batch_jobs.upload_list(
                db.session,
                actor=actor,
                filename=Path(path).name,
                data=data,
                send_to_customers=True,
            )
            # A list this long is previewed by a worker: this process is that worker.
            db.session.info.pop(queueing._AFTER_COMMIT)
        preview_in_background(db.session, job.id)
        confirmed = time.perf_counter()
        phase["name"] = "run"
        with unit_of_work(db.session, actor):
            batch_jobs.confirm_job(db.session, job.id, actor=actor)
            batch_jobs.run_now(db.session, job.id, actor=Actor(None, "bench", frozenset({"Admin"})))
        batch_jobs.claim_due_jobs(db.session, utcnow())
        done = process_job(db.session, job.id, parallel=app.config["BATCH_PARALLEL"])
        finished = time.perf_counter()
        assert done.state == "done", done.state
        phase["name"] = "search copy"  # the worker's next step (jobs/batch.process_batch)
        make_searchable(db.session, done)
        holds = phase["holds"]
        return {
            "copy_hold": max(holds.get("search copy", [0.0])),
            "seconds": finished - started,
            "run_seconds": finished - confirmed,
            "preview_seconds": confirmed - started,
            "counts": done.counts,
            "chunks": len(holds.get("run", [])),
            "longest_chunk_hold": max(holds.get("run", [0.0])),
            "longest_preview_hold": max(holds.get("preview", [0.0])),
        }


def child(url: str, path: Path) -> dict:
    flask(url, "db", "upgrade")
    flask(url, "sync-roles")
    flask(url, "demo-data", "--if-empty")
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=url),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2])))
        return
    postgresql = os.environ.get("DATABASE_URL", "")
    assert postgresql.startswith("postgresql"), "run under scripts/with-postgres.sh"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / f"lijst-{ROWS}.csv"
        subprocess.run(
            [sys.executable, str(MAKE_LIST), str(ROWS), str(listing), "--bad-every", "50"],
            check=True,
            capture_output=True,
        )
        results = {
            "sqlite": child(f"sqlite:///{Path(folder) / 'console.db'}", listing),
            "postgresql": child(postgresql, listing),
        }
    load_after = os.getloadavg()
    print(f"rows: {ROWS}, machine: {os.cpu_count()} cores")
    print(
        "load average (1, 5, 15 min): before "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after "
        + ", ".join(f"{x:.2f}" for x in load_after)
    )
    for name, figures in results.items():
        print(
            f"{name:>10}: upload to done {figures['seconds']:.2f} s (preview "
            f"{figures['preview_seconds']:.2f} s, confirm to done {figures['run_seconds']:.2f} s), "
            f"{figures['chunks']} chunks, longest chunk transaction "
            f"{figures['longest_chunk_hold']:.2f} s, preview's longest write transaction "
            f"{figures['longest_preview_hold']:.2f} s, the search copy after done "
            f"{figures['copy_hold']:.2f} s, counts {figures['counts']}"
        )
    sqlite, postgresql_ = results["sqlite"], results["postgresql"]
    print(
        f"SQLite / PostgreSQL: upload to done {sqlite['seconds'] / postgresql_['seconds']:.2f}×, "
        f"confirm to done {sqlite['run_seconds'] / postgresql_['run_seconds']:.2f}×; "
        f"SQLite's longest write-lock hold per chunk {sqlite['longest_chunk_hold']:.2f} s"
    )


if __name__ == "__main__":
    main()
