"""The fleet issue's browser test (R-FL-5, R-FL-6): fleet-bakker sees exactly his 5 cars,
changes one car's driver (it stays), transfers another to a new owner; once that owner
has accepted (link from the SMTP sink), the car is gone from his list and gives 404."""

from __future__ import annotations

import re

from tests.browser.conftest import deliver_mail, log_in
from tests.mailsink import MailSink


def plates_on_dashboard(page):
    return page.locator("table.my-fleet tr[data-plate]").evaluate_all(
        "rows => rows.map(r => r.dataset.plate)"
    )


def test_fleet_manager_changes_a_driver_and_transfers_a_car(page, app, world, live_server):
    fleet_id = world.user("fleet-bakker").fleet_account_id
    expected = sorted(p.plate_display for p in world.passports(fleet_account_id=fleet_id))
    sink = MailSink().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, PUBLIC_URL=live_server)
    try:
        log_in(page, "fleet-bakker")
        assert page.locator("h2").first.inner_text() == "Mijn AutoPaspoorten"
        assert sorted(plates_on_dashboard(page)) == expected

        kept, sold = expected[0], expected[1]
        row = page.locator(f"tr[data-plate='{kept}']")
        row.locator("button.dropdown-toggle").click()
        row.locator("a.change-driver").click()
        page.fill("#email", "nieuwe.chauffeur@example.nl")
        page.fill("#email_again", "nieuwe.chauffeur@example.nl")
        page.fill("#last_name", "Chauffeur")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "blijft in het wagenpark" in page.content()
        assert sorted(plates_on_dashboard(page)) == expected
        assert page.locator(f"tr[data-plate='{kept}'] td.driver").inner_text() == "Chauffeur"

        row = page.locator(f"tr[data-plate='{sold}']")
        row.locator("button.dropdown-toggle").click()
        row.locator("a.transfer-owner").click()
        page.fill("#email", "nieuwe.eigenaar@example.nl")
        page.fill("#email_again", "nieuwe.eigenaar@example.nl")
        page.fill("#first_name", "Nadia")
        page.fill("#last_name", "Eigenaar")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "verlaat het wagenpark zodra hij dat doet" in page.content()
        sold_url = page.locator(f"tr[data-plate='{sold}'] td.plate a").get_attribute("href")

        deliver_mail(app)
        mail = next(t for t in sink.texts() if "To: nieuwe.eigenaar@example.nl" in t)
        link = re.search(r"http://\S+/activate/\S+", mail).group(0)
        page.goto("/logout/")
        page.goto(link)
        page.fill("#password", "nieuw-wachtwoord")
        page.fill("#conf_password", "nieuw-wachtwoord")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert sold in page.content()  # in the new owner's vehicles

        page.goto("/logout/")
        log_in(page, "fleet-bakker")
        assert sorted(plates_on_dashboard(page)) == sorted(set(expected) - {sold})
        assert page.goto(sold_url).status == 404
    finally:
        app.config.update(SMTP_HOST="", SMTP_PORT=25, PUBLIC_URL="http://localhost")
        sink.stop()
