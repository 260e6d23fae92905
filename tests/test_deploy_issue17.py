"""Issue 17, "A deploy kit that is tested": deploy/ agrees with the console's settings and
README. `make smoke-prod` (scripts/smoke_prod.py) runs the kit itself; these catch a
number changed on one side only, in a second."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from config import Config
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="reads files; no database")

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _nginx() -> str:
    return (DEPLOY / "nginx" / "garageconsole.conf").read_text()


def _megabytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def test_issue17_nginx_takes_every_upload_the_console_takes():
    """R-BJ-2: a list the console would refuse in Dutch must not be cut off by nginx's
    bare English 413 first."""
    size = re.search(r"client_max_body_size\s+(\w+);", _nginx()).group(1)
    assert _megabytes(size) >= Config.MAX_CONTENT_LENGTH


def test_issue17_nginx_sets_the_headers_the_console_trusts():
    """One proxy hop (TRUSTED_PROXIES=1): address, scheme, host and port, each set (never
    passed on from the client) so the login limit counts per real client."""
    nginx = _nginx()
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port"):
        assert re.search(rf"proxy_set_header\s+{header}\s+\$", nginx), header
    assert "Content-Security-Policy" not in nginx  # the console sends its own, with a nonce


def test_issue17_nginx_waits_longer_than_gunicorn(monkeypatch, tmp_path):
    """gunicorn, not nginx, ends a request that took too long (a streamed CSV export)."""
    # The file sets the variable when it is missing: keep it out of this process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    read_timeout = int(re.search(r"proxy_read_timeout\s+(\d+)s;", _nginx()).group(1))
    assert settings["worker_class"] == "sync"
    assert read_timeout > settings["timeout"] >= 300
    assert "127.0.0.1" in settings["forwarded_allow_ips"]


def test_issue17_systemd_units_start_the_scripts_the_smoke_run_starts():
    web = (DEPLOY / "systemd" / "garageconsole-web.service").read_text()
    worker = (DEPLOY / "systemd" / "garageconsole-worker@.service").read_text()
    assert "ExecStart=/opt/garageconsole/deploy/bin/web\n" in web
    assert "PROMETHEUS_MULTIPROC_DIR=" in web
    assert "ExecStart=/opt/garageconsole/deploy/bin/worker\n" in worker
    smoke = (ROOT / "scripts" / "smoke_prod.py").read_text()
    assert '"deploy/bin/web"' in smoke and '"deploy/bin/worker"' in smoke


def test_issue17_readme_names_what_deploy_holds():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running on real servers", 1)[1].split("\n## ", 1)[0]
    for name in (
        "deploy/bin/web",
        "deploy/bin/worker",
        "deploy/bin/migrate",
        "deploy/gunicorn.conf.py",
        "deploy/nginx/garageconsole.conf",
        "garageconsole-web.service",
        "garageconsole-worker@.service",
        "make smoke-prod",
        "pg_dump",
    ):
        assert name in section, name


def test_issue17_access_log_leaves_the_query_string_out(monkeypatch, tmp_path):
    """A list's search or filter in the query can be a customer's name or e-mail address:
    gunicorn logs the path (%(U)s), not the request line (%(r)s) or the query (%(q)s)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    access = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["access_log_format"]
    assert "%(U)s" in access
    assert "%(r)s" not in access and "%(q)s" not in access


def test_issue17_a_silent_redis_host_cannot_hang_a_request():
    """/health and every request that queues work connect to Redis with a time limit."""
    from flask import Flask

    from admin_app.queueing import REDIS_CONNECT_TIMEOUT_S, _connect

    app = Flask(__name__)
    app.config["REDIS_URL"] = "redis://192.0.2.1:6379/0"  # TEST-NET-1: nobody answers
    pool = _connect(app).connection_pool
    assert pool.connection_kwargs["socket_connect_timeout"] == REDIS_CONNECT_TIMEOUT_S <= 5
