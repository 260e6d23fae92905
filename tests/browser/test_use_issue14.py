"""Issue 14 (use), in Chromium: what a garage employee sees on a phone (390 px)."""

from __future__ import annotations

from tests.browser.conftest import log_in

# Each value cell of FAB's show table (th label, td value): its right edge and how much of
# its text is hidden inside it.
CUT_VALUES = """() => [...document.querySelectorAll('table tr > th.col-lg-2 + td')]
    .map(td => [td.innerText.trim(), Math.round(td.getBoundingClientRect().right),
                td.scrollWidth - td.clientWidth])
    .filter(([text, right, hidden]) => text && (right > window.innerWidth || hidden > 1))"""


def test_issue14_customer_profile_values_are_whole_on_a_phone(page, world):
    """R-X-2 (phone widths): at 390 px the profile's Klantprofiel showed "19-06-201" and
    half an e-mail address — .table-responsive kept label and value on one line, wider
    than the screen. Each value is whole within the screen now, as on the user's profile."""
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[0]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    for path in (f"/passports/show/{passport.id}", "/users/userinfo/"):
        page.goto(path)
        page.wait_for_load_state()
        assert page.evaluate(CUT_VALUES) == [], path


BUTTONS_PAST_THE_SCREEN = """() => [...document.querySelectorAll('.btn')]
    .filter(b => b.offsetParent !== null)
    .map(b => [b.innerText.trim(), Math.round(b.getBoundingClientRect().right)])
    .filter(([text, right]) => right > window.innerWidth)"""


def test_issue14_batch_job_buttons_fit_a_phone(page, world):
    """R-BJ-3 (phone widths): the preview's "Geweigerde rijen (.xlsx) om te verbeteren en
    opnieuw te uploaden" ran past a 390 px screen; every button's words wrap within it."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    page.goto("/batch-jobs/upload")
    page.set_input_files("#file", str(data / "klantenlijst-met-fouten.csv"))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "15 geweigerd" in page.locator(".batch-counts").inner_text()
    assert page.evaluate(BUTTONS_PAST_THE_SCREEN) == []
