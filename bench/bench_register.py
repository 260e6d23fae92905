"""Benchmark: 1,000,000 vehicle-register rows imported and switched, on PostgreSQL (issue 18).

    make bench-register      (starts a throwaway PostgreSQL cluster)

`make_rdw.py 1000000` writes the register file (API shape, ~150 MB). Each figure is
measured in a fresh process (for its peak memory), each import beside a plain COPY of the
same file into a bare table (the floor) run just before it: the first import (into the
demo's 70-vehicle register), then PAIRS imports of the same file again (the daily
refresh: 1,000,000 rows to replace, the old generation dropped), each timed up to and with
the purge; their ratios to their floors are reported as min and median. Then lookups by
plate.
"""

from __future__ import annotations

import json
import logging
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_RDW = ROOT / "tests" / "data" / "make_rdw.py"  # a copy of shared/data's
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
LOOKUPS = 2000
PAIRS = int(os.environ.get("BENCH_PAIRS", "3"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, path: str) -> dict:
    """Runs in a child process: the COPY floor, one import, or the lookups."""
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app

    app = create_app()
    with app.app_context():
        from admin_app.extensions import db

        if kind == "copy":
            with open(path, encoding="utf-8") as header_file:
                columns = header_file.readline().strip().replace('"', "").split(",")
            raw = db.engine.raw_connection()
            cursor = raw.cursor()
            cursor.execute(
                "DROP TABLE IF EXISTS bench_register_copy; CREATE TABLE bench_register_copy ("
                + ", ".join(f"{name} text" for name in columns)
                + ")"
            )
            raw.commit()
            started = time.perf_counter()
            with open(path, encoding="utf-8") as file:
                cursor.copy_expert(
                    "COPY bench_register_copy FROM STDIN WITH (FORMAT csv, HEADER true)", file
                )
            raw.commit()
            seconds = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_register_copy")
            raw.commit()
            raw.close()
            return {"seconds": seconds, "peak_mb": peak_mb()}
        if kind == "import":
            from admin_app.jobs.register import import_now
            from admin_app.services.audit import Actor

            phases = []  # the import's own log line: how long each phase took

            class Phases(logging.Handler):
                def emit(self, record):
                    phases.append(record.args)

            logging.getLogger("admin_app.jobs.register").addHandler(Phases())
            started = time.perf_counter()
            run = import_now(db.session, Path(path), actor=Actor(None, "bench"))
            seconds = time.perf_counter() - started
            written, switched, purged = (phases[-1][i] for i in (3, 5, 6))
            assert run.state == "done", (run.state, run.reason, run.reason_params)
            return {
                "seconds": seconds,
                "rows": run.rows,
                "kept": run.kept,
                "switched_after": (run.finished_at - run.started_at).total_seconds(),
                "written": written,
                "switched": switched,
                "purged": purged,
                "peak_mb": peak_mb(),
            }
        from sqlalchemy import select

        from admin_app.models import RegisteredVehicle
        from admin_app.services.register import vehicle_facts

        plates = db.session.scalars(select(RegisteredVehicle.plate)).all()
        chosen = random.Random(18).sample(plates, LOOKUPS)
        vehicle_facts(db.session, chosen[:10])  # warm
        times = []
        for plate in chosen:
            db.session.expunge_all()
            started = time.perf_counter()
            facts = vehicle_facts(db.session, [plate])
            times.append((time.perf_counter() - started) * 1000)
            assert plate in facts
        times.sort()
        started = time.perf_counter()
        many = vehicle_facts(db.session, chosen[:200])
        many_ms = (time.perf_counter() - started) * 1000
        assert len(many) == 200
        return {
            "p50_ms": times[len(times) // 2],
            "p95_ms": times[int(len(times) * 0.95)],
            "many_200_ms": many_ms,
            "peak_mb": peak_mb(),
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


def flask(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *args],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )


def main() -> None:
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(64))
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
        return
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "needs PostgreSQL"
    flask("db", "upgrade")
    flask("sync-roles")
    flask("demo-data", "--if-empty")
    with tempfile.TemporaryDirectory() as folder:
        made = time.perf_counter()
        subprocess.run(
            [sys.executable, str(MAKE_RDW), str(ROWS - 70), "--out", folder],
            check=True,
            capture_output=True,
        )
        path = Path(folder) / "rdw-voertuigen-voorbeeld.csv"
        print(
            f"file: {ROWS:,} rows, {path.stat().st_size / 1e6:.0f} MB "
            f"(written in {time.perf_counter() - made:.0f} s); machine: {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        pairs = []
        for _ in range(1 + PAIRS):  # the first import, then the refreshes
            floor = child("copy", path)
            pairs.append((floor, child("import", path)))
        lookups = child("lookup", path)
    for number, (floor, figures) in enumerate(pairs):
        name = "first import" if number == 0 else f"refresh {number}"
        print(
            f"{name}: {figures['seconds']:.1f} s = {figures['seconds'] / floor['seconds']:.2f} × "
            f"its COPY ({floor['seconds']:.2f} s, peak {floor['peak_mb']:.0f} MB); rows written "
            f"{figures['written']:.1f} s, kept and switched {figures['switched']:.1f} s, purged "
            f"{figures['purged']:.1f} s; {figures['rows']:,} rows, {figures['kept']} kept; "
            f"peak {figures['peak_mb']:.0f} MB"
        )
    ratios = [figures["seconds"] / floor["seconds"] for floor, figures in pairs[1:]]
    if ratios:
        print(
            f"refresh ÷ COPY over {len(ratios)} pairs: min {min(ratios):.2f} ×, "
            f"median {statistics.median(ratios):.2f} ×"
        )
    print(
        f"lookup by plate: p50 {lookups['p50_ms']:.2f} ms, p95 {lookups['p95_ms']:.2f} ms "
        f"({LOOKUPS} plates one by one); 200 plates in one call {lookups['many_200_ms']:.1f} ms; "
        f"load after {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
