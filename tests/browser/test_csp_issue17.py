"""Issue 17: every screen works under the Content-Security-Policy (flask-talisman).

The page fixture fails a test on any "Content Security Policy" refusal on Chromium's
console; here each role opens every page of its menu, and Admin opens Swagger UI.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in


@pytest.mark.parametrize("username", ["admin", "garage-jansen", "fleet-bakker", "eigenaar"])
def test_issue17_each_roles_menu_pages_run_under_the_policy(page, username):
    log_in(page, username)
    links = page.eval_on_selector_all(
        ".navbar a[href^='/']", "links => links.map(link => link.getAttribute('href'))"
    )
    pages = sorted({href for href in links if "logout" not in href and "lang" not in href})
    assert pages, "no menu"
    for href in pages:
        response = page.goto(href)
        page.wait_for_load_state("load")
        assert response.status < 500, href


def test_issue17_swagger_ui_runs_under_the_policy(page):
    log_in(page, "admin")
    page.goto("/swagger/v1")
    # Swagger UI draws the API's title once its scripts ran and it read /api/v1/_openapi.
    page.wait_for_selector(".swagger-ui .info .title")


def test_issue17_attack_the_queue_pages_fill_under_the_policy(page):
    """rq-dashboard draws its tables with underscore's templates (`new Function`): under a
    policy without 'unsafe-eval' its pages said "Loading..." for ever, the refusal thrown
    as a page error that the console listener never saw."""
    log_in(page, "admin")
    for path in ("/admin/rq/", "/admin/rq/0/view/workers", "/admin/rq/0/view/jobs"):
        page.goto(path)
        page.wait_for_selector("table td:has-text('Loading')", state="detached")
