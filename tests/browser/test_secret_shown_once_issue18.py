"""Issue 18 (duplicates): the pages that show a secret once share one template
(console/secret_shown_once.html). The calendar's and the webhook's pages have browser tests
of their own; this is the API key's: shown once, copied with one tap, gone after."""

from __future__ import annotations

from tests.browser.conftest import log_in


def test_issue18_the_api_key_is_shown_once_and_copied_with_one_tap(page):
    """R-X-1 (API keys, issue 16): a phone-wide screen shows the new key once; the copy
    button puts exactly that key on the clipboard and says so; the list never shows it."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    page.goto("/api-keys/new")
    page.fill("#name", "Autosoft")
    page.click("button[type=submit]")
    secret = page.input_value("#api-key-secret")
    assert secret.startswith("gk_")
    assert page.is_visible("text=alleen deze ene keer getoond")
    assert not page.is_visible("text=Gekopieerd.")
    page.click("#api-key-copy")
    page.locator("text=Gekopieerd.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.click("text=Klaar")
    page.goto("/api-keys/list/")
    assert "Autosoft" in page.content() and secret not in page.content()
