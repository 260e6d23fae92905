"""Issue 17 (use): findings of using the merged parts, checked without a browser."""

from __future__ import annotations

import pytest

from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens, no SQL of their own")


def test_issue17_only_the_queue_pages_allow_eval(world, login_as):
    """rq-dashboard's pages (Admin only) allow 'unsafe-eval' for its templates; the console's
    pages do not, and a script still needs the nonce on both."""
    admin = login_as("admin")
    queues = admin.get("/admin/rq/").headers["Content-Security-Policy"]
    home = admin.get("/").headers["Content-Security-Policy"]
    assert "'unsafe-eval'" in queues and "'nonce-" in queues
    assert "'unsafe-eval'" not in home and "'nonce-" in home
