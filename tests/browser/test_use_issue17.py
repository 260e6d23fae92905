"""Issue 17 (use): screens a garage employee and Admin met while using the merged parts."""

from __future__ import annotations

from tests.browser.conftest import log_in


def test_issue17_admin_queue_pages_draw_their_tables_and_lead_back(page):
    """Queues for Admin (rq-dashboard) under the console's CSP: its tables are drawn by
    underscore templates, which compile with eval; refused, every table said "Loading..."
    forever. And a way back to the console from a page that has none of its menu."""
    log_in(page, "admin")
    for path in ("/admin/rq/0/view/queues", "/admin/rq/0/view/workers"):
        page.goto(path)
        page.wait_for_function(
            "!document.querySelector('tbody').innerText.includes('Loading...')", timeout=5_000
        )
    page.click("a#back-to-console")
    page.wait_for_load_state()
    assert page.url.endswith("/")
    assert "Wachtrijen en verwerkers" in page.content()
