"""gunicorn settings for the console (deploy/bin/web); environment variables override the
numbers. README "Running on real servers" explains each choice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from dotenv import dotenv_values

# The master reads this file before any worker imports config.py, so gunicorn's own
# settings below come from .env (or CONSOLE_ENV_FILE) the way config.py finds it, else a
# BIND or WEB_CONCURRENCY there was ignored. Not by importing config: the master would keep
# it (and Flask-AppBuilder) loaded, and every worker forked after `systemctl reload` would
# run the old code. gunicorn reads this file again on reload, so edits are seen.
_env_name = os.environ.get("CONSOLE_ENV_FILE")
_env_file = Path(__file__).resolve().parents[1] / ".env" if _env_name is None else Path(_env_name)
_read = _env_name != "" and _env_file.is_file()
_dotenv = dotenv_values(_env_file, interpolate=False) if _read else {}


def setting(name: str, default: str) -> str:
    """As config.setting: the environment wins, then the file; empty means the default."""
    return os.environ.get(name) or _dotenv.get(name) or default


bind = setting("BIND", "127.0.0.1:8000")
# Sync workers: every request is short database work or a PDF from wkhtmltopdf; gevent
# stays a load-test tool (requirements-dev). nginx buffers slow clients in front of them.
worker_class = "sync"
workers = int(setting("WEB_CONCURRENCY", "4"))
# A CSV export of 1,000,000 rows streams for 20-60 s, during which a sync worker is silent
# (BENCHMARKS.md, issue 15); gunicorn's default 30 s would kill it. nginx waits longer.
timeout = int(setting("GUNICORN_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = 5
# Only the proxy on this machine may say a request came over https (X-Forwarded-Proto).
# The client's address and host come through ProxyFix in the console (TRUSTED_PROXIES).
forwarded_allow_ips = setting("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Only the header nginx sets: gunicorn's defaults also believe X-Forwarded-Ssl and
# X-Forwarded-Protocol, which nginx passes on from the client as sent; "X-Forwarded-Ssl:
# off" beside nginx's https made every such request a 400 (contradictory scheme headers).
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# A worker that served this many requests is replaced: bounds slow leaks (PDF rendering).
max_requests = 2000
max_requests_jitter = 200
# gunicorn 25+ opens a control socket in $HOME/.gunicorn by default: the same path for
# every gunicorn of the user, and a home the systemd unit hides (ProtectHome). systemd's
# signals (HUP, TERM) do what it would.
control_socket_disable = True

# /metrics counts the latency of every web process, not of whichever one answers the
# scrape: prometheus-client's multi-process mode. It must be set before a worker imports
# prometheus_client, so here, in the master, before any worker is forked.
metrics_dir = setting("PROMETHEUS_MULTIPROC_DIR", "") or tempfile.mkdtemp(prefix="console-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir


def on_starting(server):
    # Files of the previous run's processes would be summed into this run's figures.
    os.makedirs(metrics_dir, exist_ok=True)
    for name in os.listdir(metrics_dir):
        path = os.path.join(metrics_dir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Logs: JSON lines on stderr, like the console's own. In each worker the console replaces
# the root handler (the one marked console_json) with its own, which adds the request id
# and replaces tokens of mailed links by "…"; gunicorn's access and error lines propagate
# to it, so an access line never shows /activate/<token>. The master's lines (start,
# stop, worker timeouts) carry no request and go through the plain JSON handler below.
accesslog = None  # logconfig_dict turns the access log on, through the root logger
# The path without its query string (%(U)s, not the request line %(r)s): a list's search
# or filter in the query can be a customer's name or e-mail address.
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%({x-forwarded-for}i)s" "%(a)s" '
    "%({x-request-id}o)s"
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger", "asctime": "time"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
            ".": {"console_json": True},
        }
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}
