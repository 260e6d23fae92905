"""Issue 17: Admin sees the rq queues and workers (rq-dashboard under /admin/rq), nobody
else; read-only, so none of its actions can change what the workers do."""

from __future__ import annotations

import pytest

from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="no SQL of its own")

OTHERS = ["garage-jansen", "fleet-bakker", "support", "eigenaar"]


def test_issue17_admin_sees_queues_and_workers_in_the_menu(world, login_as):
    """Admin: the menu entry opens rq-dashboard's page of queues and workers."""
    admin = login_as("admin")
    home = admin.get("/").get_data(as_text=True)
    assert 'href="/admin/rq/"' in home and "Wachtrijen en verwerkers" in home
    assert admin.get("/admin/rq/").status_code == 200
    assert admin.get("/admin/rq/0/data/queues.json").status_code == 200
    assert admin.get("/admin/rq/0/data/workers.json").status_code == 200


@pytest.mark.parametrize("username", OTHERS)
def test_issue17_queues_do_not_exist_for_other_roles(world, login_as, username):
    """Role matrix: every other role gets 404 and no menu entry."""
    browser = login_as(username)
    assert 'href="/admin/rq/"' not in browser.get("/").get_data(as_text=True)
    assert browser.get("/admin/rq/").status_code == 404
    assert browser.get("/admin/rq/0/data/queues.json").status_code == 404


def test_issue17_queues_ask_a_visitor_to_log_in(app, world):
    response = app.test_client().get("/admin/rq/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_issue17_the_queue_pages_are_read_only_even_for_admin(world, login_as):
    """rq-dashboard's POSTs and its requeue-all GET are refused."""
    admin = login_as("admin")
    assert admin.get("/admin/rq/0/data/requeue/default").status_code in (403, 404)
    assert admin.get("/admin/rq/requeue/default").status_code in (403, 404)
    response = admin.post("/admin/rq/queue/default/failed/empty", data={})
    assert response.status_code in (400, 403, 404)


def test_issue17_unknown_jobs_and_registries_are_404_not_500(world, login_as):
    """rq-dashboard itself fails with a 500 on an unknown job id or registry name."""
    admin = login_as("admin")
    assert admin.get("/admin/rq/0/view/job/nope").status_code == 404
    assert admin.get("/admin/rq/0/data/job/nope.json").status_code == 404
    assert admin.get("/admin/rq/0/data/jobs/console/nope/10/asc/1.json").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/rq/5/view/queues",
        "/admin/rq/5/data/queues.json",
        "/admin/rq/1/data/workers.json",
        "/admin/rq/0/data/jobs/console/queued/veel/asc/1.json",
        "/admin/rq/0/data/jobs/console/queued/10/asc/een.json",
        "/admin/rq/0/data/jobs/console/queued/0/asc/1.json",
        "/admin/rq/0/data/jobs/console/queued/10/asc/².json",
    ],
)
def test_issue17_attack_odd_queue_urls_are_404_not_500(app, world, login_as, path):
    """Only one Redis is configured (instance 0); rq-dashboard indexed past it, and took
    any text for a page size or number, with a 500."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert login_as("admin").get(path).status_code == 404


def test_issue17_the_jobs_tab_opens_the_consoles_queue(app, world, login_as):
    """rq-dashboard's Jobs tab showed rq's queue "default", always empty here."""
    response = login_as("admin").get("/admin/rq/0/view/jobs")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/admin/rq/0/view/jobs/{app.config['RQ_QUEUE']}/queued/8/asc/1"
    )
