"""Issue 16: a garage employee registers a webhook endpoint on a phone-wide screen, copies
its secret (shown once) and reads the delivery log in Dutch."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.webhook_receiver import Receiver


@pytest.fixture()
def private_allowed(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False


def test_issue16_register_an_endpoint_and_read_its_log(app, page, private_allowed):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    with Receiver() as receiver:
        page.goto("/webhooks/")
        page.click("#new-webhook")
        page.fill("#url", receiver.url)
        page.check("text=Een AutoPaspoort is naar de eigenaar verstuurd")
        page.click("button[type=submit]")
        secret = page.text_content("#webhook-secret")
        assert secret.startswith("whsec_")
        assert page.is_visible("text=alleen deze ene keer getoond")
        page.click("text=Klaar, ik heb het gekopieerd")
        endpoint = page.locator(".webhook-endpoint", has_text=receiver.url)
        endpoint.wait_for()
        assert secret not in page.content()
        # Every button within a phone's width (a table had hidden them off the screen).
        for button in endpoint.locator(".btn").all():
            box = button.bounding_box()
            assert box and box["x"] + box["width"] <= 390, button.inner_text()
        endpoint.locator("text=Afleverlogboek").click()
        page.locator(".webhook-log", has_text="Nog geen berichten verstuurd.").wait_for()


def test_issue16_use_the_logs_folds_look_like_folds(app, page, world, acting_as, private_allowed):
    """Signed webhooks, R-X-2: the delivery log's answer and technical message are folds a
    garage employee sees as such (a triangle), not captions (Bootstrap 3 hid the marker)."""
    from admin_app.extensions import db
    from admin_app.jobs.webhooks import deliver_due
    from admin_app.services import webhooks
    from admin_app.services.passports import send_passport

    with Receiver() as receiver:
        with acting_as("garage-jansen") as acting:
            endpoint, _secret = webhooks.register_endpoint(
                world.session, url=receiver.url, events=["passport.sent"], actor=acting.actor
            )
            jansen = world.garage("Autobedrijf Jansen")
            unsent = world.passports(garage_id=jansen.id, state="created")[0]
            send_passport(world.session, unsent.id, actor=acting.actor)
            world.session.commit()
        with app.app_context():
            deliver_due()
            db.session.remove()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    page.goto(f"/webhooks/{endpoint.id}/log")
    summary = page.locator(".webhook-log summary").first
    assert summary.evaluate("s => getComputedStyle(s).display") == "list-item"


def test_issue16_use_the_secret_is_copied_with_one_tap(app, page, private_allowed):
    """Signed webhooks, R-X-2: as the API key's page, the secret shown once has a copy
    button; at 390 px a hand-selected wrapped secret easily loses a character."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "garage-jansen")
    page.goto("/webhooks/new")
    page.fill("#url", "http://127.0.0.1:9/hook")
    page.check("text=Een AutoPaspoort is naar de eigenaar verstuurd")
    page.click("button[type=submit]")
    secret = page.text_content("#webhook-secret").strip()
    assert not page.is_visible("text=Gekopieerd.")
    page.click("#webhook-secret-copy")
    page.locator("text=Gekopieerd.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
