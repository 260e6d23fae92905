"""The rq queues and workers for Admin: rq-dashboard under /admin/rq (issue 17).

Read-only: rq-dashboard's own actions (delete, requeue, empty, compact) change what the
workers do without an audit trail, and one of them is a GET, so every method but GET is
refused and so is that GET. Anyone but Admin is told the page does not exist, as the
console answers for pages outside a role.
"""

from __future__ import annotations

import inspect
import re

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from admin_app.roles import ADMIN

URL_PREFIX = "/admin/rq"
# rq-dashboard's GET that requeues every failed job of a queue.
WRITING_GETS = {"rq_dashboard.requeue_all"}
# The registries rq-dashboard can list; any other name made it fail with a 500.
REGISTRIES = {"queued", "failed", "deferred", "scheduled", "started", "finished", "canceled"}


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and any(r.name == ADMIN for r in user.roles))


def allow_eval_on_the_queue_pages(app: Flask) -> None:
    """rq-dashboard draws every table with underscore's templates, which compile with eval:
    under the console's policy its pages said "Loading..." for ever. Its pages alone (Admin
    only, read-only) also allow 'unsafe-eval'; a script still needs the response's nonce."""
    from admin_app.web.security_headers import CONTENT_SECURITY_POLICY

    policy = {**CONTENT_SECURITY_POLICY, "script-src": ["'self'", "'unsafe-eval'"]}
    for endpoint, view in app.view_functions.items():
        # Its pages; not its static files, served by Blueprint's method shared with every
        # blueprint (and a script file needs no policy of its own).
        if endpoint.startswith("rq_dashboard.") and inspect.isfunction(view):
            # flask-talisman's per-view options (what its decorator sets).
            view.talisman_view_options = {"content_security_policy": policy}


def register_rq_dashboard(app: Flask) -> None:
    import rq_dashboard

    app.config.setdefault("RQ_DASHBOARD_DISABLE_DELETE", True)  # no buttons that would fail
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    allow_eval_on_the_queue_pages(app)

    # App-level, so it runs before rq-dashboard's own hook (which needs the connection).
    @app.before_request
    def only_admin_reads_the_queues():
        if request.blueprint != "rq_dashboard":
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("AuthDBView.login", next=request.path))
        if not is_admin(current_user):
            abort(404)
        if request.method not in ("GET", "HEAD") or request.endpoint in WRITING_GETS:
            abort(403)
        if request.endpoint == "rq_dashboard.jobs_overview" and not request.view_args.get(
            "queue_name"
        ):
            # Its Jobs tab opens rq's queue "default", which the console never uses.
            return redirect(
                url_for(
                    "rq_dashboard.jobs_overview",
                    instance_number=0,
                    queue_name=app.config["RQ_QUEUE"],
                    registry_name="queued",
                    per_page=8,
                    order="asc",
                    page=1,
                )
            )
        from admin_app.queueing import get_redis

        redis = get_redis(app)
        # rq-dashboard answers an unknown job or registry with a 500: a 404 here instead.
        args = request.view_args or {}
        if "registry_name" in args and args["registry_name"] not in REGISTRIES:
            abort(404)
        # One Redis is configured (instance 0); a higher number or a page (size) that is
        # not a positive number made rq-dashboard fail with a 500 too.
        if args.get("instance_number", 0) != 0:
            abort(404)
        for name in ("per_page", "page"):
            if name in args and not re.fullmatch(r"[1-9][0-9]{0,5}", str(args[name])):
                abort(404)
        if "job_id" in args:
            from rq.job import Job

            if not Job.exists(args["job_id"], connection=redis):
                abort(404)
        app.redis_conn = redis
        # rq-dashboard connects by this URL per page and shows it with the password masked.
        app.config["RQ_DASHBOARD_REDIS_URL"] = (app.config["REDIS_URL"],)
        return None
