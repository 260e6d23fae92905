"""R-IN screens: find, new form, save as a version, print."""

from __future__ import annotations

from tests.conftest import CSRF_RE


def test_r_in_1_2_5_7_find_make_save_and_print_on_screen(world, login_as):
    browser = login_as("garage-jansen")
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[
        1
    ]
    page = browser.client.get(f"/inspections/?q={passport.plate_display}&invited=0")
    assert page.status_code == 200 and passport.plate_display in page.get_data(as_text=True)
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    created = browser.client.post(
        "/inspections/new",
        data={"csrf_token": token, "kind": "all_ok", "passport_id": passport.id},
    )
    assert created.status_code == 302
    form_url = created.headers["Location"]
    page = browser.client.get(form_url)
    html = page.get_data(as_text=True)
    assert "Concept" in html or "concept" in html
    assert browser.client.get(form_url + "/pdf").status_code == 302  # a draft: a message
    fields = {"csrf_token": CSRF_RE.search(html).group(1), "inspector": "Piet"}
    fields["advice_description"] = ["Remblokken", "Ruitenwissers"]
    fields["advice_price"] = ["245,00", "30"]
    saved = browser.client.post(form_url, data=fields)
    assert saved.status_code == 302
    pdf = browser.client.get(form_url + "/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    bad = browser.client.post(
        form_url,
        data={**fields, "advice_price": ["-3", "30"], "csrf_token": fields["csrf_token"]},
        follow_redirects=True,
    )
    assert "negatief" in bad.get_data(as_text=True)


def test_r_in_1_another_garages_form_page_is_404(world, login_as, api_client):
    created = api_client("garage-jansen").post(
        "/api/v1/inspection_form/",
        json={"kind": "blank", "inspector": "Piet", "inspection_date": "2026-11-20"},
    )
    other = login_as("garage-devries")
    assert other.client.get(f"/inspections/{created.json['id']}").status_code == 404


def test_issue14_a_saved_form_is_not_called_all_ok_in_its_heading(world, login_as):
    """R-IN-2: "alle controlepunten OK" is how a draft was started; once saved with advice,
    the heading no longer says it (the use review saw it above forms with advice)."""
    import re

    browser = login_as("garage-jansen")
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[
        2
    ]
    page = browser.client.get(f"/inspections/?q={passport.plate_display}&invited=0")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    form_url = browser.client.post(
        "/inspections/new",
        data={"csrf_token": token, "kind": "all_ok", "passport_id": passport.id},
    ).headers["Location"]

    def heading() -> str:
        html = browser.client.get(form_url).get_data(as_text=True)
        return re.search(r'<h4 class="panel-title">(.*?)</h4>', html, re.S).group(1)

    assert "alle controlepunten OK" in heading()
    html = browser.client.get(form_url).get_data(as_text=True)
    saved = browser.client.post(
        form_url,
        data={
            "csrf_token": CSRF_RE.search(html).group(1),
            "inspector": "Piet",
            "advice_description": ["Remblokken"],
            "advice_price": ["245,00"],
        },
    )
    assert saved.status_code == 302
    assert "controlepunten" not in heading()
