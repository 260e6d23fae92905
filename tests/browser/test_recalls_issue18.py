"""Issue 18: a garage finds its cars with an open recall from its home page, on a phone in
Dutch and on a laptop in English, and reads on the profile what is wrong and what to do."""

from __future__ import annotations

from tests.browser.conftest import log_in


def _fits(page, width: int) -> None:
    # Measured once the page's stylesheet is in: the panel's text is in the DOM before it,
    # and under the full suite's load a layout without console.css was 404 px wide.
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in (element.bounding_box() for element in page.locator(".open-recall").all()):
        assert box and box["x"] + box["width"] <= width


def test_issue18_garage_follows_its_recalls_on_a_phone_in_dutch(page):
    """R-IN-3 / R-X-2: home's to-do count → the list as cards → the profile's panel."""
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    page.click(".todo-recalls a")
    page.wait_for_url("**/recalls/list/")
    cards = page.locator("table.table-stacked tbody tr")
    assert cards.count() == 3
    _fits(page, 390)
    assert "RDW-referentie" in cards.first.inner_text()
    cards.first.locator("td.plate_label a").click()
    panel = page.locator(".open-recalls")
    panel.locator("text=Herstel").first.wait_for()
    assert "Openstaande terugroepactie" in panel.inner_text()
    _fits(page, 390)


def test_issue18_garage_reads_its_recall_list_on_a_laptop_in_english(page):
    """The list in English with its file links; no column of empty buttons."""
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "garage-jansen")
    page.goto("/lang/en")
    page.goto("/recalls/list/")
    headings = page.locator("table.table-stacked thead th").all_inner_texts()
    assert [text.strip() for text in headings] == [
        "Plate",
        "Brand",
        "Model",
        "Owner",
        "Open recall",
        "State",
    ]
    assert "RDW reference" in page.locator("table.table-stacked tbody").inner_text()
    assert page.locator("a:has-text('CSV')").count() == 1
    _fits(page, 1366)
    page.goto("/lang/nl")
