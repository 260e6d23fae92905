"""`/metrics` for Prometheus (issue 17): request latency by endpoint from the web, and the
workers' state read from the database and Redis at scrape time (services/metrics).

With PROMETHEUS_MULTIPROC_DIR set (gunicorn), every web process writes its latencies there
and a scrape of any one of them adds them up; without it (`make run`) the one process
answers alone.
"""

from __future__ import annotations

import ipaddress
import os
import time

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram(
    "console_request_seconds",
    "Time to answer a web request, by endpoint (the URL rule, not the path).",
    ["method", "endpoint"],
)


# A client may send any method name; each new label value would be another histogram in
# every web process, so the methods the console answers are named and the rest pooled.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def allowed(remote_addr: str | None, allow: str) -> bool:
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    for network in filter(None, (part.strip() for part in allow.split(","))):
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


class WorkCollector:
    """Reads the figures when scraped, so they hold whichever machine the workers run on."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from admin_app.extensions import db
        from admin_app.models.base import utcnow
        from admin_app.queueing import get_queue, get_redis
        from admin_app.scope import unscoped
        from admin_app.services.heartbeat import seconds_since_last_tick
        from admin_app.services.metrics import work_figures

        # Platform-wide counts, never a row: the caller is authorized by METRICS_ALLOW.
        with self.app.app_context(), unscoped():
            try:
                figures = work_figures(db.session, utcnow())
            finally:
                db.session.remove()
            mails = GaugeMetricFamily(
                "console_mails", "Mails in the outbox, by state.", labels=["state"]
            )
            for state, count in figures.mails_by_state.items():
                mails.add_metric([state], count)
            yield mails
            jobs = GaugeMetricFamily(
                "console_batch_jobs", "Customer-list jobs, by state.", labels=["state"]
            )
            for state, count in figures.batch_jobs_by_state.items():
                jobs.add_metric([state], count)
            yield jobs
            yield GaugeMetricFamily(
                "console_batch_rows_per_second",
                "Rows per second of the lists finished in the last 24 hours.",
                value=figures.batch_rows_per_second,
            )
            yield GaugeMetricFamily(
                "console_batch_job_max_seconds",
                "Longest run of the lists finished in the last 24 hours.",
                value=max(figures.batch_durations_s, default=0.0),
            )
            yield GaugeMetricFamily(
                "console_batch_job_failures_24h",
                "Lists that failed in the last 24 hours.",
                value=figures.batch_failures_recent,
            )
            redis = get_redis(self.app)
            queue = get_queue(self.app)
            yield GaugeMetricFamily(
                "console_queue_length", "Jobs waiting in the rq queue.", value=queue.count
            )
            yield GaugeMetricFamily(
                "console_queue_failed_jobs",
                "Jobs in the rq queue's failed registry.",
                value=queue.failed_job_registry.count,
            )
            last_tick = seconds_since_last_tick(redis, self.app.config["RQ_QUEUE"])
            yield GaugeMetricFamily(
                "console_worker_last_tick_seconds",
                "Seconds since a worker's clock last ticked (-1: never).",
                value=-1 if last_tick is None else last_tick,
            )


def register_metrics(app: Flask) -> None:
    @app.before_request
    def start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "(no route)"
            REQUEST_SECONDS.labels(method_label(request.method), endpoint).observe(
                time.perf_counter() - started
            )
        return response

    def metrics():
        # 404, not 403: to anyone else the page does not exist.
        if not allowed(request.remote_addr, current_app.config["METRICS_ALLOW"]):
            abort(404)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            web = CollectorRegistry()
            multiprocess.MultiProcessCollector(web)
        else:
            web = REGISTRY
        work = CollectorRegistry(auto_describe=False)
        work.register(WorkCollector(app))
        body = generate_latest(web) + generate_latest(work)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics)
