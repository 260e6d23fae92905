"""Benchmark: a 100,000-row customer list from upload to done, on PostgreSQL (issue 5).

    make bench-import        (starts a throwaway PostgreSQL cluster)

Each figure is measured in a fresh process (for its peak memory), against a plain COPY
of the same rows into a bare table as the floor, and printed as a ratio to that floor.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_LIST = ROOT / "tests" / "data" / "make_customer_list.py"  # a copy of shared/data's
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


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


def measure(kind: str, path: str) -> dict:
    """Runs in a child process: one upload + run, or the COPY floor."""
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app

    app = create_app()
    with app.app_context():
        from admin_app.extensions import db

        if kind == "copy":
            from admin_app.services.customer_lists import decode_text

            raw = db.engine.raw_connection()
            cursor = raw.cursor()
            cursor.execute(
                "DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy "
                "(kenteken text, email text, voornaam text, tussenvoegsel text, "
                "achternaam text, straat text, huisnummer text, postcode text, "
                "plaats text, telefoon text, klantnummer text, apk text, merk text, "
                "model text)"
            )
            raw.commit()
            import io

            text = decode_text(Path(path).read_bytes())
            started = time.perf_counter()
            cursor.copy_expert(
                "COPY bench_copy FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)",
                io.StringIO(text),
            )
            raw.commit()
            seconds = time.perf_counter() - started
            raw.close()
        else:
            from admin_app.db import unit_of_work
            from admin_app.jobs.batch import process_job
            from admin_app.models import ConsoleUser
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
                    background_from=10**9,  # measure the preview here, not in a worker
                )
            preview = time.perf_counter() - started
            preview_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            confirmed = time.perf_counter()
            with unit_of_work(db.session, actor):
                batch_jobs.confirm_job(db.session, job.id, actor=actor)
                batch_jobs.run_now(
                    db.session, job.id, actor=Actor(None, "bench", frozenset({"Admin"}))
                )
            from admin_app.models.base import utcnow

            batch_jobs.claim_due_jobs(db.session, utcnow())
            # As the worker runs it: chunks side by side on BATCH_PARALLEL connections.
            done = process_job(
                db.session,
                job.id,
                parallel=app.config["BATCH_PARALLEL"],
            )
            finished = time.perf_counter()
            seconds = finished - started
            assert done.state == "done", done.state
            return {
                "seconds": seconds,
                "preview_seconds": preview,
                "run_seconds": finished - confirmed,
                "counts": done.counts,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "preview_peak_mb": preview_mb,
            }
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(kind: str, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    # A throwaway database needs no lasting key (development would read instance/secret_key,
    # which only `make run` makes); one for this run, shared by its child processes.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(64))
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
        return
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "needs PostgreSQL"
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", "db", "upgrade"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", "sync-roles"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", "demo-data", "--if-empty"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        files = make_lists(Path(folder))
        floor = child("copy", files["csv"])
        results = {"copy floor": floor, "csv": child("run", files["csv"])}
        if os.environ.get("BENCH_XLSX", "1") == "1":
            results["xlsx"] = child("run", files["xlsx"])
    print(f"rows: {ROWS}, machine: {os.cpu_count()} cores")
    for name, figures in results.items():
        ratio = figures["seconds"] / floor["seconds"]
        extra = (
            f", of which preview {figures['preview_seconds']:.2f} s (peak by then "
            f"{figures['preview_peak_mb']:.0f} MB) and confirm to done "
            f"{figures['run_seconds']:.2f} s "
            f"= {figures['run_seconds'] / floor['seconds']:.1f} × COPY,"
            f" counts {figures['counts']}"
            if "counts" in figures
            else ""
        )
        print(
            f"{name:>10}: {figures['seconds']:.2f} s = {ratio:.1f} × COPY, "
            f"{ROWS / figures['seconds']:,.0f} rows/s, peak {figures['peak_mb']:.0f} MB{extra}"
        )


if __name__ == "__main__":
    main()
