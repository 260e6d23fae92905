from __future__ import annotations

from flask import jsonify
from flask_appbuilder import BaseView, expose
from sqlalchemy import text

from admin_app.extensions import db


class HealthView(BaseView):
    """`GET /health`: can we reach the database and Redis? 200 or 503, no login."""

    route_base = ""

    @expose("/health")
    def health(self):
        from admin_app.queueing import get_redis

        status = {}
        try:
            db.session.execute(text("SELECT 1"))
            status["database"] = "ok"
        except Exception:
            status["database"] = "unavailable"
        try:
            get_redis().ping()
            status["redis"] = "ok"
        except Exception:
            status["redis"] = "unavailable"
        healthy = all(v == "ok" for v in status.values())
        return jsonify(status), 200 if healthy else 503
