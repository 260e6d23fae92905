"""Issue 17, "See what it does": /health reports the worker's last tick (SPEC's /health)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="no database-specific SQL here")


@pytest.fixture()
def redis(app):
    from admin_app.queueing import get_redis
    from admin_app.services.heartbeat import _key

    redis = get_redis(app)
    redis.delete(_key(app.config["RQ_QUEUE"]))
    yield redis
    redis.delete(_key(app.config["RQ_QUEUE"]))


def test_issue17_health_without_a_worker_is_up_but_not_strict(app, world, redis):
    """SPEC /health: 200 while database and Redis answer; ?strict=1 is 503 with no tick."""
    client = app.test_client()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "ok",
        "worker": {"last_tick_s": None},
    }
    assert client.get("/health?strict=1").status_code == 503


def test_issue17_a_clock_tick_makes_health_strictly_green(app, world, redis):
    """The worker's clock records its tick in Redis, where every web process reads it."""
    from admin_app.jobs.clock import tick

    tick(app)
    response = app.test_client().get("/health?strict=1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert 0 <= body["worker"]["last_tick_s"] <= 2 * app.config["TICK_SECONDS"]


def test_issue17_a_tick_older_than_two_intervals_fails_strict_only(app, world, redis):
    """Older than two tick intervals: the worker counts as gone for ?strict=1 only."""
    from admin_app.services.heartbeat import record_tick

    record_tick(redis, app.config["RQ_QUEUE"], time.time() - 3 * app.config["TICK_SECONDS"])
    client = app.test_client()
    assert client.get("/health").status_code == 200
    response = client.get("/health?strict=1")
    assert response.status_code == 503
    assert response.get_json()["worker"]["last_tick_s"] >= 1.5
