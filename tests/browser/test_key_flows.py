"""Key flows of the foundation in a real browser, in Dutch."""

from __future__ import annotations

import re

from tests.browser.conftest import log_in
from tests.mailsink import MailSink


def test_garage_finds_a_passport_by_plate_in_any_notation(page, world):
    jansen = world.garage("Autobedrijf Jansen")
    passport = next(p for p in world.passports(garage_id=jansen.id) if "-" in p.plate_display)
    log_in(page, "garage-jansen")
    assert page.locator("h2").first.inner_text() == "Vandaag bij de garage"
    page.fill("#q", passport.plate.lower())  # typed without dashes, in lower case
    page.click("button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("table.table tbody tr")
    assert passport.plate_display in page.content()
    assert rows.count() >= 1
    page.locator("a[href*='/passports/show/']").first.click()
    page.wait_for_load_state()
    assert "Geschiedenis" in page.content()
    history = page.locator(".passport-history").inner_text()
    # Issue 14 (R-SEC-2): the demo's loader reads as the system, its changes as sentences.
    assert "Systeem" in history and "AutoPaspoort aangemaakt" in history
    assert "job:" not in history and "passport insert" not in history


def test_each_demo_login_sees_its_own_home(page, world):
    log_in(page, "fleet-bakker")
    assert page.locator("h2").first.inner_text() == "Mijn AutoPaspoorten"
    assert page.locator("table.my-fleet tr").count() == 1 + 5  # header + his 5 cars
    page.goto("/logout/")
    log_in(page, "eigenaar")
    assert page.locator("h2").first.inner_text() == "Mijn voertuigen"
    assert page.locator("table.my-passports tr").count() == 1 + 2


def test_forgot_password_link_by_mail_sets_a_new_password(page, app, world, live_server):
    from admin_app.extensions import db
    from admin_app.jobs.accounts import mail_password_reset
    from admin_app.jobs.mail import deliver_due
    from tests.mails import run_queued

    run_queued(app, mail_password_reset, perform=False)  # left by earlier tests
    sink = MailSink().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, PUBLIC_URL=live_server)
    try:
        page.goto("/login/")
        page.click("a.forgot-password")
        page.fill("#identifier", "garage-devries")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "mail met een link onderweg" in page.content()
        assert run_queued(app, mail_password_reset) == 1  # the worker looks the name up
        with app.app_context():
            deliver_due()
            db.session.remove()
        mail = next(t for t in sink.texts() if "balie@garagedevries.nl" in t)
        link = re.search(r"http://\S+/reset-password/\S+", mail).group(0)
        page.goto(link)
        page.fill("#password", "een-nieuw-wachtwoord")
        page.fill("#conf_password", "een-nieuw-wachtwoord")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "Uw wachtwoord is ingesteld" in page.content()
        log_in(page, "garage-devries", "een-nieuw-wachtwoord")
        assert page.locator("h2").first.inner_text() == "Vandaag bij de garage"
        page.goto(link)  # the link works once
        assert "al gebruikt" in page.content()
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25, PUBLIC_URL="http://localhost")
        sink.stop()
