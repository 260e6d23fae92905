"""Benchmark: a 100,000-row customer list from upload to done, on PostgreSQL (issues 5, 20).

    make bench-import        (starts a throwaway PostgreSQL cluster)

Measured against the importer's honest floor (issue 20, bench/import_floor.py): a COPY, on
two connections, of exactly the rows the import just wrote, into the same tables with the
same indexes. BENCH_PAIRS (3) pairs of an import and its floor run interleaved, so the
machine's noise falls on both; min and median of each, and their ratio. Then the worker's
preview of the same list (a list over 20,000 rows is previewed by the worker) with its
peak memory, and the XLSX once. Each import runs in a fresh process, for its peak memory.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.import_floor import copy_floor, high_water, take_written  # noqa: E402

MAKE_LIST = ROOT / "tests" / "data" / "make_customer_list.py"  # a copy of shared/data's
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "3"))


def make_lists(folder: Path) -> dict[str, Path]:
    files = {}
    # Two seeds: the XLSX holds other plates, so it creates as many passports as the CSV.
    for suffix, seed in (("csv", "7"), ("xlsx", "8")):
        path = folder / f"lijst-{ROWS}.{suffix}"
        subprocess.run(
            [
                sys.executable,
                str(MAKE_LIST),
                str(ROWS),
                str(path),
                "--bad-every",
                "50",
                "--seed",
                seed,
            ],
            check=True,
            capture_output=True,
        )
        files[suffix] = path
    return files


def peak_mb() -> float:
    """This process's peak resident memory since it started. Not getrusage's ru_maxrss:
    Linux keeps that across exec, so a child would report its parent's peak."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def measure(kind: str, path: str) -> dict:
    """Runs in a child process: one upload and run to done ("run"), or the worker's
    preview of an upload ("worker-preview")."""
    from admin_app import create_app
    from admin_app.extensions import db
    from admin_app.models import ConsoleUser
    from admin_app.services.audit import Actor

    app = create_app()
    with app.app_context():
        user = db.session.query(ConsoleUser).filter_by(username="garage-devries").one()
        actor = Actor.of_user(user)
        if kind == "upload-for-worker":
            return _upload_for_worker(db.session, actor, Path(path))
        if kind == "worker-preview":
            return _worker_preview(db.session, actor, int(path))
        return _upload_and_run(db.session, actor, Path(path), app.config["BATCH_PARALLEL"])


def _upload(session, actor, path: Path, background_from: int):
    from admin_app.db import unit_of_work
    from admin_app.services import batch_jobs

    with unit_of_work(session, actor):
        return batch_jobs.upload_list(
            session,
            actor=actor,
            filename=path.name,
            data=path.read_bytes(),
            send_to_customers=True,
            background_from=background_from,
        )


def _upload_for_worker(session, actor, path: Path) -> dict:
    """The screen's half of a list over 20,000 rows: stored, and the worker's preview
    queued (here only noted: the next child is that worker)."""
    from admin_app import queueing

    queued: list[str] = []

    class NotedOnly:
        def enqueue(self, job, *args, **options):
            queued.append(job)

    queueing.get_queue = NotedOnly
    started = time.perf_counter()
    job = _upload(session, actor, path, background_from=0)
    assert queued, "the upload did not queue the worker's preview"
    return {"job_id": job.id, "seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def _worker_preview(session, actor, job_id: int) -> dict:
    """The worker's preview of the uploaded list, in a process of its own as rq's work
    horse is: its peak is the worker's (issue 20: ≤ 300 MB for 100,000 rows)."""
    from admin_app.db import unit_of_work
    from admin_app.jobs.batch import preview_in_background
    from admin_app.services import batch_jobs

    before = peak_mb()
    started = time.perf_counter()
    preview_in_background(session, job_id)
    seconds = time.perf_counter() - started
    peak = peak_mb()
    with unit_of_work(session, actor):
        batch_jobs.cancel_job(session, job_id, actor=actor)
    return {"seconds": seconds, "peak_mb_before_preview": before, "peak_mb": peak}


def _upload_and_run(session, actor, path: Path, parallel: int) -> dict:
    from admin_app.db import unit_of_work
    from admin_app.jobs.batch import make_searchable, process_job
    from admin_app.models.base import utcnow
    from admin_app.services import batch_jobs
    from admin_app.services.audit import Actor

    started = time.perf_counter()
    job = _upload(session, actor, path, background_from=10**9)  # the preview here
    preview = time.perf_counter() - started
    preview_mb = peak_mb()
    confirmed = time.perf_counter()
    with unit_of_work(session, actor):
        batch_jobs.confirm_job(session, job.id, actor=actor)
        batch_jobs.run_now(session, job.id, actor=Actor(None, "bench", frozenset({"Admin"})))
    batch_jobs.claim_due_jobs(session, utcnow())
    # As the worker runs it: chunks side by side on BATCH_PARALLEL connections.
    done = process_job(session, job.id, parallel=parallel)
    finished = time.perf_counter()
    assert done.state == "done", done.state
    # What the worker does next (jobs/batch.process_batch): the run's new customers and
    # cars into the counter's search, after "done" and outside the floor.
    make_searchable(session, done)
    return {
        "seconds": finished - started,
        "preview_seconds": preview,
        "run_seconds": finished - confirmed,
        "searchable_seconds": time.perf_counter() - finished,
        "counts": done.counts,
        "peak_mb": peak_mb(),
        "preview_peak_mb": preview_mb,
    }


def child(kind: str, path: Path | int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode:
        sys.exit(f"the {kind} child failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def flask(*command: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *command],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )


def drop_orphaned_copies(cursor) -> None:
    """The search copy of the rows ``take_written`` removed (its deletes skip the foreign
    keys, and so their cascade): the copy is made after "done", so it is no part of the
    floor, and the next import starts from the same database."""
    for table, key, parent in (
        ("customer_search", "customer_id", "customer"),
        ("passport_search", "passport_id", "passport"),
    ):
        orphaned = f"NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{key})"
        cursor.execute(f"DELETE FROM {table} c WHERE {orphaned}")
    cursor.connection.commit()
    cursor.connection.autocommit = True
    cursor.execute("VACUUM ANALYZE customer_search, passport_search")
    cursor.connection.autocommit = False


def pairs(path: Path) -> tuple[list[dict], list[float], dict[str, int]]:
    """PAIRS times: the import, then the floor of exactly what it wrote; the database is
    left as it was before each."""
    import psycopg2

    url = os.environ["DATABASE_URL"]
    conn = psycopg2.connect(url)
    cursor = conn.cursor()
    runs, floors, written_rows = [], [], {}
    for _ in range(PAIRS):
        before = high_water(cursor)
        conn.commit()
        runs.append(child("run", path))
        written = take_written(cursor, before)
        drop_orphaned_copies(cursor)
        written_rows = {w.table: w.rows for w in written}
        floors.append(copy_floor(lambda: psycopg2.connect(url), written))
        take_written(cursor, before)
    conn.close()
    return runs, floors, written_rows


def main() -> None:
    # A throwaway database needs no lasting key (development would read instance/secret_key,
    # which only `make run` makes); one for this run, shared by its child processes.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(64))
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
        return
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "needs PostgreSQL"
    for command in (("db", "upgrade"), ("sync-roles",), ("demo-data", "--if-empty")):
        flask(*command)
    with tempfile.TemporaryDirectory() as folder:
        files = make_lists(Path(folder))
        load = os.getloadavg()[0]
        runs, floors, written = pairs(files["csv"])
        uploaded = child("upload-for-worker", files["csv"])
        worker = child("worker-preview", uploaded["job_id"])
        xlsx = child("run", files["xlsx"]) if os.environ.get("BENCH_XLSX", "1") == "1" else None
    report(runs, floors, written, (uploaded, worker), xlsx, load)


def _min_median(values: list[float]) -> str:
    return f"min {min(values):.2f} s, median {statistics.median(values):.2f} s"


def report(runs, floors, written, worker_path, xlsx, load) -> None:
    uploaded, worker = worker_path
    confirm_to_done = [r["run_seconds"] for r in runs]
    print(
        f"rows: {ROWS}, pairs: {PAIRS}, machine: {os.cpu_count()} cores, load at start {load:.2f}"
    )
    print(f"the floor writes {sum(written.values()):,} rows: {written}")
    for number, (run, floor) in enumerate(zip(runs, floors, strict=True), start=1):
        print(
            f"  pair {number}: confirm to done {run['run_seconds']:.2f} s, floor {floor:.2f} s "
            f"= {run['run_seconds'] / floor:.2f} × floor; upload to done {run['seconds']:.2f} s "
            f"(preview {run['preview_seconds']:.2f} s, peak {run['peak_mb']:.0f} MB); "
            f"searchable {run['searchable_seconds']:.2f} s after done"
        )
    print(f"confirm to done: {_min_median(confirm_to_done)}")
    print(f"floor:           {_min_median(floors)}")
    print(
        f"ratio: {min(confirm_to_done) / min(floors):.2f} × floor (min/min), "
        f"{statistics.median(confirm_to_done) / statistics.median(floors):.2f} × (median/median)"
    )
    print(f"counts: {runs[-1]['counts']}")
    print(
        f"worker's preview of the CSV: {worker['seconds']:.2f} s, peak {worker['peak_mb']:.0f} MB "
        f"(the process before the preview: {worker['peak_mb_before_preview']:.0f} MB; "
        f"the upload's request before it: {uploaded['seconds']:.2f} s, "
        f"peak {uploaded['peak_mb']:.0f} MB)"
    )
    if xlsx:
        print(
            f"xlsx: upload to done {xlsx['seconds']:.2f} s "
            f"(preview {xlsx['preview_seconds']:.2f} s, "
            f"confirm to done {xlsx['run_seconds']:.2f} s "
            f"= {xlsx['run_seconds'] / statistics.median(floors):.2f} × the CSV's median floor), "
            f"peak {xlsx['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
