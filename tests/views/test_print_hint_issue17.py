"""Issue 17 (R-IN-7): on a server without wkhtmltopdf the print button says how to install
it, in Dutch and English, and printing answers with that message instead of a 500."""

from __future__ import annotations

import pytest

from tests.conftest import CSRF_RE, DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="no database behaviour involved")

COMMAND = "sudo apt-get install wkhtmltopdf"


def _saved_form(world, browser) -> str:
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[
        3
    ]
    page = browser.client.get(f"/inspections/?q={passport.plate_display}&invited=0")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    form_url = browser.client.post(
        "/inspections/new",
        data={"csrf_token": token, "kind": "all_ok", "passport_id": passport.id},
    ).headers["Location"]
    html = browser.client.get(form_url).get_data(as_text=True)
    saved = browser.client.post(
        form_url, data={"csrf_token": CSRF_RE.search(html).group(1), "inspector": "Piet"}
    )
    assert saved.status_code == 302
    return form_url


def test_issue17_print_button_says_how_to_install_wkhtmltopdf(world, login_as, monkeypatch):
    browser = login_as("garage-jansen")
    form_url = _saved_form(world, browser)
    page = browser.client.get(form_url).get_data(as_text=True)
    assert f'href="{form_url}/pdf"' in page and COMMAND not in page  # the machine has it

    monkeypatch.setenv("PATH", "/nonexistent")  # a server without wkhtmltopdf
    page = browser.client.get(form_url).get_data(as_text=True)
    assert f'href="{form_url}/pdf"' not in page  # no button that only leads to an error
    assert "het PDF-programma wkhtmltopdf is niet geïnstalleerd" in page and COMMAND in page
    printed = browser.client.get(form_url + "/pdf", follow_redirects=True)
    assert printed.status_code == 200
    assert "Een beheerder installeert het met: " + COMMAND in printed.get_data(as_text=True)

    page = browser.client.get(form_url + "?_l_=en").get_data(as_text=True)
    assert "the PDF program wkhtmltopdf is not installed" in page and COMMAND in page
