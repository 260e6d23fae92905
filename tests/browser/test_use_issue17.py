"""Issue 17 (use): screens a garage employee and Admin met while using the merged parts."""

from __future__ import annotations

from tests.browser.conftest import log_in


def test_issue17_admin_queue_pages_draw_their_tables_and_lead_back(page):
    """Queues for Admin (rq-dashboard) under the console's CSP: its tables are drawn by
    underscore templates, which compile with eval; refused, every table said "Loading..."
    forever. A way back to the console from a page that has none of its menu, and no
    buttons for the actions the console refuses."""
    log_in(page, "admin")
    for path in ("/admin/rq/0/view/queues", "/admin/rq/0/view/workers"):
        page.goto(path)
        page.wait_for_function(
            "!document.querySelector('tbody').innerText.includes('Loading...')", timeout=5_000
        )
    # On a phone the introduction stays above the table (its fixed height ran over it).
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/rq/0/view/queues")
    assert page.eval_on_selector("p.intro", "p => p.scrollHeight <= p.clientHeight")
    page.set_viewport_size({"width": 1366, "height": 900})
    # Read-only (views/rq_console.py refuses its actions): no buttons that would fail.
    page.goto("/admin/rq/0/view/jobs")
    page.wait_for_selector("#select-queue")
    for button in ("#compact-btn", "#empty-btn", "#requeue-all-btn"):
        assert not page.is_visible(button), button
    page.click("a#back-to-console")
    page.wait_for_load_state()
    assert page.url.endswith("/")
    assert "Wachtrijen en verwerkers" in page.content()
