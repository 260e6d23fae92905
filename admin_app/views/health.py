from __future__ import annotations

from flask import current_app, jsonify, request
from flask_appbuilder import BaseView, expose
from sqlalchemy import text

from admin_app.extensions import db


class HealthView(BaseView):
    """`GET /health` (SPEC's contract): database, Redis and the worker's last tick; no login.

    503 when the database or Redis fails; with `?strict=1` also when no worker ticked
    within two tick intervals, so a load balancer can choose which of the two it needs.
    """

    route_base = ""

    @expose("/health")
    def health(self):
        from admin_app.queueing import get_redis
        from admin_app.services.heartbeat import seconds_since_last_tick

        body = {"database": "ok", "redis": "ok"}
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            body["database"] = "unavailable"
        last_tick_s = None
        try:
            redis = get_redis()
            redis.ping()
            last_tick_s = seconds_since_last_tick(redis, current_app.config["RQ_QUEUE"])
        except Exception:
            body["redis"] = "unavailable"
        body["worker"] = {"last_tick_s": None if last_tick_s is None else round(last_tick_s, 1)}
        healthy = body["database"] == "ok" and body["redis"] == "ok"
        worker_alive = (
            last_tick_s is not None and last_tick_s <= 2 * current_app.config["TICK_SECONDS"]
        )
        body["status"] = "ok" if healthy and worker_alive else "degraded"
        strict = request.args.get("strict") == "1"
        return jsonify(body), 200 if healthy and (worker_alive or not strict) else 503
