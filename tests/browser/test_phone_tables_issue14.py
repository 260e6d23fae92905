"""Issue 14 (R-X-2, phone pages): at 390 px the one thing to do on the fleet dashboard (the
"Actie" menu) and on the week proposals (Ja/Nee/Nooit) sat off-screen in a table one had
to scroll sideways. On a phone such a table shows each row as a card ("label: value");
at 1366 px it stays a table."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.conftest import DB_KIND

# Layout does not depend on the database; one run on SQLite keeps the suite's time down.
pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="layout in a browser: SQLite only")

# (login, page, its first row with an action, that row's action controls)
PAGES = [
    ("fleet-bakker", "/my-fleet/list/", "table.my-fleet tr:has(button)", "button"),
    ("garage-jansen", "/proposals/", "#proposals tr:has(input[type=radio])", "label.radio-inline"),
]
PLATE = {"nl": "Kenteken", "en": "Plate"}
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
LABELS = "cells => cells.map(c => getComputedStyle(c, '::before').content.replace(/^\"|\"$/g, ''))"


def _open(page, username, path, language, width, height):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, username)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{path}?_l_={language}")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(("username", "path", "row", "controls"), PAGES)
def test_issue14_row_actions_are_on_a_phone_screen(
    page, world, username, path, row, controls, language
):
    """R-X-2: at 390×844 the first row's action controls lie within the screen, the page is
    not wider than the screen, and each value is labelled with its column's (translated)
    heading."""
    _open(page, username, path, language, 390, 844)
    first = page.locator(row).first
    buttons = first.locator(controls)
    assert buttons.count(), f"{path}: no action in the first row"
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (
            f"{username} ({language}) {path}: action {index} at {box}"
        )
    scroll_width, width = page.evaluate(WIDTHS)
    assert scroll_width <= width, f"{username} ({language}) {path}: page {scroll_width} px wide"
    labels = [label for label in first.locator("td").evaluate_all(LABELS) if label != "none"]
    assert PLATE[language] in labels, labels


@pytest.mark.parametrize(("username", "path", "row", "controls"), PAGES)
def test_issue14_row_actions_stay_a_table_at_1366(page, world, username, path, row, controls):
    """At 1366 px the table keeps its rows and columns (the desktop layout is unchanged)."""
    _open(page, username, path, "nl", 1366, 900)
    first = page.locator(row).first
    assert first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    cells = first.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c).display)")
    assert set(cells) == {"table-cell"}, cells
    assert first.locator("td").evaluate_all(LABELS) == ["none"] * len(cells)
