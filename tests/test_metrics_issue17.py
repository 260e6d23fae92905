"""Issue 17, "See what it does": /metrics for Prometheus, only to METRICS_ALLOW."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="portable counting SQL only")


def scrape(app, remote_addr="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote_addr
    return client.get("/metrics")


def value(text, name, labels=""):
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in /metrics"
    return float(match.group(1))


def test_issue17_metrics_answer_only_to_metrics_allow(app, world):
    """Default loopback only; anyone else gets 404; a listed network is let in."""
    assert scrape(app).status_code == 200
    assert scrape(app, "10.1.2.3").status_code == 404
    app.config["METRICS_ALLOW"] = "127.0.0.1, 10.1.0.0/16"
    try:
        assert scrape(app, "10.1.2.3").status_code == 200
        assert scrape(app, "10.2.0.1").status_code == 404
    finally:
        app.config["METRICS_ALLOW"] = "127.0.0.1/8,::1"


def test_issue17_metrics_latency_by_url_rule_and_work_read_at_scrape_time(app, world):
    """Latency by endpoint (the rule, never a token or id); mails, lists, queue, ticks
    read from the database and Redis when scraped."""
    from admin_app.models.outbox import OutboxMessage, OutboxState
    from admin_app.queueing import get_redis
    from admin_app.services.heartbeat import record_tick

    s = world.session
    s.commit()
    app.test_client().get("/activate/secret-token-123")
    record_tick(get_redis(app), app.config["RQ_QUEUE"])
    text = scrape(app).get_data(as_text=True)
    assert 'endpoint="/activate/<token>"' in text
    assert "secret-token-123" not in text
    pending = s.query(OutboxMessage).filter_by(state=OutboxState.pending.value).count()
    assert value(text, "console_mails", '{state="pending"}') == pending
    assert value(text, "console_mails", '{state="failed"}') >= 0
    assert value(text, "console_batch_rows_per_second") >= 0
    assert value(text, "console_queue_length") >= 0
    assert 0 <= value(text, "console_worker_last_tick_seconds") < 5


def test_issue17_attack_made_up_methods_add_no_label_values(app, world):
    """Any client may send any method name: each one was a new label value, a histogram
    of its own in every web process (and a file under PROMETHEUS_MULTIPROC_DIR)."""
    client = app.test_client()
    for n in range(3):
        client.open("/", method=f"ATTACK{n}")
        client.open(f"/nergens-{n}", method=f"ATTACK{n}")
    text = scrape(app).get_data(as_text=True)
    assert "ATTACK" not in text
    assert 'method="other"' in text
