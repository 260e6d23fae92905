"""Alembic owns the schema: empty → head → one step down → head, on this run's database
kind; the models and the migrations agree; `flask sync-roles` is idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import DB_KIND


@pytest.fixture()
def empty_database(tmp_path):
    if DB_KIND == "postgresql":
        name = f"migrations_{uuid.uuid4().hex[:8]}"
        admin = create_engine(os.environ["TEST_PG_ADMIN_URL"], isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        url = os.environ["TEST_PG_ADMIN_URL"].rsplit("/", 1)[0] + f"/{name}"
        yield url
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


def flask(url, *args):
    # Development reads instance/secret_key, which `make run` makes; a test brings its own.
    env = dict(os.environ, DATABASE_URL=url, CONSOLE_ENV="development", SECRET_KEY="m" * 64)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def tables(url) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def version(url) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def schema(url) -> set[tuple[str, str]]:
    """Every (table, column) pair: a step down changes it even when it drops no table."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {
            (table, column["name"])
            for table in inspector.get_table_names()
            for column in inspector.get_columns(table)
        }
    finally:
        engine.dispose()


def test_upgrade_downgrade_one_step_and_up_again(empty_database):
    flask(empty_database, "db", "upgrade")
    created = tables(empty_database)
    assert {
        "garage",
        "customer",
        "passport",
        "fleet_account",
        "audit_log",
        "outbox_message",
        "access_token",
        "ab_user",
        "ab_role",
        "ab_permission_view",
        "transfer",
    } <= created
    full, head = schema(empty_database), version(empty_database)
    flask(empty_database, "db", "downgrade", "--", "-1")
    one_down = schema(empty_database)
    # A step down removes what it added (0007 adds PostgreSQL-only indexes: nothing here)
    # and brings back what it dropped (0010: the outbox's body, now written at send time;
    # 0018: the transfer's own confirmation key, now the one Idempotency-Key rule;
    # 0022: a recall's description, now in recall_detail with the vehicle register).
    dropped = {
        ("outbox_message", "body"),
        ("transfer", "confirmation_key"),
        ("recall", "description"),
    }
    assert one_down - full <= dropped and version(empty_database) != head
    flask(empty_database, "db", "upgrade")
    assert schema(empty_database) == full
    flask(empty_database, "db", "downgrade", "base")
    assert tables(empty_database) == {"alembic_version"}
    flask(empty_database, "db", "upgrade")
    assert "No new upgrade operations detected" in flask(empty_database, "db", "check")


def test_sync_roles_is_idempotent(empty_database):
    flask(empty_database, "db", "upgrade")
    first = flask(empty_database, "sync-roles")
    second = flask(empty_database, "sync-roles")
    counts = [line for line in first.splitlines() if "permissions" in line]
    assert counts and counts == [line for line in second.splitlines() if "permissions" in line]
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        roles = {row[0] for row in connection.execute(text("SELECT name FROM ab_role"))}
        pairs = connection.execute(text("SELECT count(*) FROM ab_permission_view_role")).scalar()
    engine.dispose()
    assert roles == {"Admin", "Garage", "FleetManager", "Support", "Owner"}
    flask(empty_database, "sync-roles")
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM ab_permission_view_role")).scalar()
            == pairs
        )
    engine.dispose()


def test_issue14_sync_roles_logs_no_refused_warnings(empty_database):
    """Issue 14: every start (`make run` syncs the roles) printed ~85 "Refused to delete,
    view menu … does not exist" warnings from FAB's permission converge. A first and a
    repeated sync are quiet."""
    flask(empty_database, "db", "upgrade")
    for run in ("first", "second"):
        output = flask(empty_database, "sync-roles")
        refused = [line for line in output.splitlines() if "Refused" in line]
        assert not refused, f"{run} sync: {len(refused)} warnings, e.g. {refused[:3]}"
