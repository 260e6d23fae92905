"""The issue's browser test: a stock car from creation to its new owner (R-PP, R-TR)."""

from __future__ import annotations

import re

from tests.browser.conftest import deliver_mail, log_in
from tests.mailsink import MailSink


def test_stock_car_created_transferred_activated_and_locked(page, app, world, live_server):
    sink = MailSink().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, PUBLIC_URL=live_server)
    try:
        log_in(page, "garage-jansen")
        page.click("text=Nieuw AutoPaspoort")
        page.fill("#plate", "x 999 zz")
        page.fill("#email", "werkplaats@autobedrijf-jansen.nl")  # the garage's own: stock
        page.fill("#brand", "Volvo")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".profile-plate").inner_text() == "X-999-ZZ"
        assert "Voorraadauto" in page.content()

        # Leaving the profile asks, in the page, whether to transfer the stock car.
        page.click("text=AutoPaspoorten")
        dialog = page.locator("#leave-dialog")
        dialog.wait_for(state="visible")
        assert "Deze auto overdragen aan een klant?" in dialog.inner_text()
        page.click("#leave-yes")
        page.wait_for_load_state()

        page.fill("#email", "nieuwe.koper@example.nl")
        page.fill("#email_again", "nieuwe.koper@example.nl")
        page.fill("#first_name", "Nora")
        page.fill("#last_name", "Koper")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "krijgt een mail om het AutoPaspoort te activeren" in page.content()

        deliver_mail(app)
        mail = next(t for t in sink.texts() if "nieuwe.koper@example.nl" in t)
        link = re.search(r"http://\S+/activate/\S+", mail).group(0)
        page.goto("/logout/")
        page.goto(link)
        page.fill("#password", "mijn-eigen-wachtwoord")
        page.fill("#conf_password", "mijn-eigen-wachtwoord")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/my-vehicles/" in page.url
        assert "X-999-ZZ" in page.content()

        # The garage can no longer change that e-mail (R-TR-3)...
        page.goto("/logout/")
        log_in(page, "garage-jansen")
        page.fill("#q", "X999ZZ")
        page.click("button[type=submit]")
        page.locator("a[href*='/passports/show/']").first.click()
        page.wait_for_load_state()
        assert page.locator(".email-locked").is_visible()
        profile = page.url

        # ...support can.
        page.goto("/logout/")
        log_in(page, "support")
        page.goto(profile)
        page.click("text=E-mailadres wijzigen")
        page.fill("#email", "nora.koper@example.nl")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "Het e-mailadres is gewijzigd" in page.content()
        assert "nora.koper@example.nl" in page.content()
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25, PUBLIC_URL="http://localhost")
        sink.stop()


def test_leaving_an_unsent_profile_asks_to_send_it(page, app, world, live_server):
    log_in(page, "garage-jansen")
    page.goto("/passports/new")
    page.fill("#plate", "12-ABC-3")
    page.fill("#email", "klant@example.nl")
    page.fill("#last_name", "Klant")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "Niet verzonden" in page.content()
    page.click("text=Klanten")
    page.locator("#leave-dialog").wait_for(state="visible")
    page.click("#leave-yes")
    page.wait_for_load_state()
    assert "Het AutoPaspoort is naar de klant verstuurd" in page.content()
