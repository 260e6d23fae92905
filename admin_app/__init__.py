"""The garage console: create_app() builds everything; nothing runs at import time."""

from __future__ import annotations

import logging
import os

from flask import Flask, g, request

from config import CONFIGS, Config, ConfigurationError, setting


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    app = Flask(__name__)
    if config is None:
        name = setting("CONSOLE_ENV", "development")
        if name not in CONFIGS:
            raise ConfigurationError(f"CONSOLE_ENV={name!r}: choose one of {', '.join(CONFIGS)}.")
        config = CONFIGS[name]
    app.config.from_object(config)
    app.config.update(overrides)
    # Before anything reads the settings: the key (development: instance/secret_key) and
    # production's required settings; refuses to start without them.
    config.complete(app.config)
    # A copy: from_object shares a class's dict between every app made from it.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    # A pooled connection that PostgreSQL or a proxy dropped (restart, failover, idle
    # timeout) is replaced at checkout instead of failing the request that drew it.
    options.setdefault("pool_pre_ping", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg2 sends an executemany row by row unless told to batch (the importer's
        # bulk UPDATEs); INSERTs already go as multi-row VALUES.
        options.setdefault("executemany_mode", "values_plus_batch")
        # JIT compiles every statement the planner thinks costly: ~1 s each for the
        # importer's set-based statements that then run in 70 ms. Short queries never win.
        options.setdefault("connect_args", {}).setdefault("options", "-c jit=off")
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        install_sqlite_pragmas()
    from admin_app.services.accounts import password_rule_for_fab

    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", password_rule_for_fab)
    from admin_app.limits import client_key

    # Who "a client" is for every per-client limit (FAB builds its limiter with this).
    app.config.setdefault("RATELIMIT_KEY_FUNC", client_key)
    # JSON lines to stderr are installed once the routes exist (tokens are redacted by
    # route); until then only warnings reach Python's last-resort handler.
    logging.getLogger().setLevel(logging.INFO)
    # FAB narrates its start-up and warns about filters of its own role screens.
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)

    from admin_app.input_guard import register_input_guard

    # First of all hooks: no other one (CSRF, JWT, FAB's login) reads a refused request.
    register_input_guard(app)
    from admin_app.proxies import trust_proxies

    trust_proxies(app)
    from admin_app.observability import install_logging, install_sentry, register_request_ids

    # Before the other hooks: every log line of the request carries its id.
    register_request_ids(app)
    from admin_app.metrics import register_metrics

    register_metrics(app)
    register_extensions(app)
    register_request_hooks(app)
    # After the scope is bound: the guards look rows up under the caller's scope.
    from admin_app.extensions import appbuilder
    from admin_app.views.guards import register_guards

    register_guards(app, appbuilder)
    register_cli(app)
    from admin_app.domain.plates import display_plate

    app.jinja_env.filters["plate"] = display_plate
    # Browsers ask for /favicon.ico on every site; the layout links the same icon.
    app.add_url_rule(
        "/favicon.ico",
        "favicon",
        lambda: app.send_static_file("favicon.ico"),
    )
    from admin_app.views.formatting import local_datetime, page_language, week_name

    # One clock on every page: a stored UTC time is shown as Amsterdam time.
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["week_name"] = week_name
    app.jinja_env.globals["page_language"] = page_language
    install_logging(app)
    install_sentry(app)
    return app


# How long a connection waits for SQLite's one write lock before "database is locked".
# An importer's chunk holds it ≤ 0.3 s (60,000 rows, issue 13) and a save a few ms; ten
# seconds only matters on a machine stalled far beyond that.
SQLITE_BUSY_MS = 10_000


def install_sqlite_pragmas() -> None:
    """Every SQLite connection in WAL mode with a busy timeout (`make run`'s default database).

    In the default rollback journal a reader blocks the writer's commit and a waiting
    writer blocks new readers: during a batch the other garages' pages and saves failed
    with "database is locked" (issue 13). In WAL readers never wait and are never waited
    for; writers take turns, waiting up to SQLITE_BUSY_MS. synchronous=NORMAL is what
    SQLite advises for WAL: a commit no longer waits for the disk (a checkpoint does), and
    a power cut may lose the last commits but never corrupts the file.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
    # Persistent in the file: switched once (it needs the database to itself for that).
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def register_extensions(app: Flask) -> None:
    from admin_app import queueing, scope
    from admin_app.api import register_apis
    from admin_app.extensions import appbuilder, csrf, db, migrate
    from admin_app.services import audit, outbox, search_copy, sessions, webhooks
    from admin_app.views import register_views

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    scope.install()
    audit.install()
    search_copy.install()
    sessions.install()
    outbox.install()
    webhooks.install()
    queueing.install()
    with app.app_context():
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        register_apis(appbuilder)
        from admin_app.views.rq_console import register_rq_dashboard

        register_rq_dashboard(app)
        from admin_app.api.errors import register_api_errors

        register_api_errors(app)
        # FAB adds the menu and views after init; permissions come from `flask sync-roles`.
        if app.config.get("FAB_UPDATE_PERMS"):
            appbuilder.add_permissions(update_perms=True)


def register_request_hooks(app: Flask) -> None:
    from flask_login import current_user, user_logged_out

    from admin_app.api import keys as api_keys
    from admin_app.extensions import db
    from admin_app.scope import bind_request_scope
    from admin_app.services import sessions
    from admin_app.services.audit import Actor, set_actor

    @app.before_request
    def bind_user_scope():
        # A garage's API key, before any JWT: a key is no JWT, and read as one it bound
        # the anonymous scope (every list empty).
        if request.path.startswith("/api/") and api_keys.bearer_key(request):
            return api_keys.bind_api_key(app)
        user = current_user if current_user and current_user.is_authenticated else None
        if user is None and request.headers.get("Authorization", "").startswith("Bearer "):
            from flask_jwt_extended import get_current_user, verify_jwt_in_request

            try:
                verify_jwt_in_request(optional=True)
                user = get_current_user()
            except Exception:  # an invalid token: FAB's @protect answers 401 itself
                user = None
        bind_request_scope(user)
        if user is not None:
            g.user = user
            set_actor(db.session, Actor.of_user(user))
        return None

    @user_logged_out.connect_via(app)
    def end_sessions_on_logout(sender, user):
        # /logout/ ends every session of the login, this browser's and any other's — when
        # the user asked for it: FAB's logout is a GET, which another site can make the
        # browser send; that ends this browser's session only (as before), not all of them.
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            return
        if user is not None and getattr(user, "id", None):
            sessions.end_sessions(user)
            db.session.commit()

    register_security_headers(app)


def register_security_headers(app: Flask) -> None:
    """flask-talisman's headers (issue 17). HSTS in production only (SECURITY_HSTS): a
    developer's http://localhost must not be told to use https for a year. https itself is
    the proxy's job (deploy/), so Talisman redirects nothing."""
    from flask_talisman import Talisman

    from admin_app.web.security_headers import CONTENT_SECURITY_POLICY

    Talisman(
        app,
        force_https=False,
        strict_transport_security=app.config["SECURITY_HSTS"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="same-origin",
        # The cookie settings stay config.py's (Secure in production only).
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
    )


def register_cli(app: Flask) -> None:
    from admin_app.cli import register

    register(app)
