"""Issue 15: the garage's home page shows what waits; clicking a count lands on the list
filtered to exactly those rows (R-PP-4, R-BJ-7, R-TR-2, R-IN-1, R-IN-2, R-CP-2, R-X-3), in
Dutch and English (R-X-2), at 1366 px and on a 390 px phone."""

from __future__ import annotations

import pytest

from admin_app.models.base import utcnow
from tests.browser.conftest import log_in
from tests.services.test_dashboard_issue15 import add_one_of_each
from tests.views.test_home_issue15 import GARAGE_KEYS, rows_listed

WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
HEADINGS = {"nl": "Wat er moet gebeuren", "en": "What needs doing"}


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_issue15_home_counts_lead_to_lists_of_that_many_rows(page, world, language, width):
    add_one_of_each(world.session, world.garage("Autobedrijf Jansen").id, utcnow())
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    log_in(page, "garage-jansen")
    page.goto(f"/lang/{language}")
    page.goto("/")
    assert page.get_attribute("html", "lang") == language
    assert page.locator("h3", has_text=HEADINGS[language]).is_visible()
    # Every count in view, also on a phone: a table once pushed them out of its box.
    for badge in page.locator(".home-todo .todo-count").all():
        box = badge.bounding_box()
        assert box and box["x"] + box["width"] <= width, box
    scroll_width, window_width = page.evaluate(WIDTHS)
    assert scroll_width <= window_width, f"home {scroll_width} px wide at {window_width}"
    for key in sorted(GARAGE_KEYS):
        page.goto("/")
        row = page.locator(f".home-todo .todo-{key}")
        count = int(row.locator(".todo-count").inner_text())
        assert count > 0, key
        row.locator("a").first.click()
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == language, key
        assert rows_listed(key, page.content()) == count, (key, page.url)
