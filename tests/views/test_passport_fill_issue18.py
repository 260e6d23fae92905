"""Issue 18, every car filled in: the new-passport screen and its register lookup, and
the profile saying whence each value came."""

from __future__ import annotations

import io
import re

import pytest

from tests.views.test_passport_views import FORM

GOLF = {**FORM, "plate": "7-ZTK-17", "email": "k.golf@example.nl", "last_name": "Golf"}


def _create(browser, **typed):
    response = browser.post("/passports/new", {**GOLF, **typed})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def test_issue18_created_by_screen_without_brand_the_profile_shows_the_registers_golf(
    world, login_as
):
    """Issue 18: a passport made on the screen with the car's fields empty shows
    Volkswagen Golf, Benzine and its APK date, each marked as the register's with the day;
    the passport row holds none of them."""
    browser = login_as("garage-jansen")
    profile = browser.get(_create(browser)).get_data(as_text=True)
    for words in ("Volkswagen", "Golf", "Benzine", "11-08-2027", "13-08-2022"):
        assert words in profile, words
    assert profile.count("RDW, gezien op") == 5
    assert "zelf ingevuld" not in profile
    world.session.expire_all()
    passport = world.passports(plate="7ZTK17")[0]
    assert (passport.brand, passport.model, passport.fuel, passport.apk_expiry) == (None,) * 4


def test_issue18_a_typed_value_that_differs_shows_the_registers_beside_it(world, login_as):
    """Issue 18: a typed model that differs is the typed one, with "RDW: Golf" beside it;
    an APK date typed earlier than the register's loses (the later counts) and is shown
    as typed; in English too."""
    browser = login_as("garage-jansen")
    location = _create(browser, model="Golf Variant", apk_expiry="14-03-2026")
    profile = browser.get(location).get_data(as_text=True)
    assert "Golf Variant" in profile and "(zelf ingevuld)" in profile
    assert "RDW: Golf" in profile
    assert "11-08-2027" in profile and "zelf ingevuld: 14-03-2026" in profile
    english = browser.get(location + "?_l_=en").get_data(as_text=True)
    assert "RDW, seen on" in english and "typed in: 14-03-2026" in english
    world.session.expire_all()
    passport = world.passports(plate="7ZTK17")[0]
    assert passport.model == "Golf Variant"


def test_issue18_the_register_lookup_answers_the_form_in_typed_shape(world, login_as):
    """Issue 18: the form's lookup gives the register's values as a person types them;
    a plate that is not Dutch is 422 with the reason in Dutch, an unknown one 404."""
    browser = login_as("garage-jansen")
    known = browser.get("/passports/register-fill?plate=7-ztk-17")
    assert known.status_code == 200
    assert known.get_json() == {
        "brand": "Volkswagen",
        "model": "Golf",
        "fuel": "Benzine",
        "first_registration": "13-08-2022",
        "apk_expiry": "11-08-2027",
    }
    bad = browser.get("/passports/register-fill?plate=AA-AA-AA")
    assert bad.status_code == 422 and "geen Nederlands kenteken" in bad.get_json()["message"]
    unknown = browser.get("/passports/register-fill?plate=X-999-ZZ")
    assert unknown.status_code == 404
    assert unknown.get_json()["message"] == "Het voertuigregister kent dit kenteken niet."
    page = browser.get("/passports/new").get_data(as_text=True)
    assert 'data-register-fill="/passports/register-fill"' in page
    assert "register_fill.js" in page


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("garage-jansen", True),
        ("garage-devries", True),
        ("admin", True),
        ("support", False),
        ("fleet-bakker", False),
        ("eigenaar", False),
    ],
)
def test_issue18_role_matrix_of_the_register_lookup(world, login_as, username, allowed):
    """Issue 18, the role matrix of /passports/register-fill: who may create passports."""
    response = login_as(username).get("/passports/register-fill?plate=7ZTK17")
    assert response.status_code < 500
    assert (response.status_code == 200 and response.is_json) is allowed


def test_issue18_the_edit_form_keeps_register_values_out_of_the_fields(world, login_as):
    """Issue 18: editing the profile, a car field the register answers stays empty (saving
    does not turn it into a typed value) and shows the register's value as placeholder."""
    browser = login_as("garage-jansen")
    location = _create(browser, model="Golf Variant")
    page = browser.get(location.rstrip("/").replace("/show/", "/") + "/edit-profile")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    assert 'placeholder="RDW: Volkswagen"' in html and 'placeholder="RDW: 11-08-2027"' in html
    assert 'value="Golf Variant"' in html and 'placeholder="RDW: Golf"' in html
    assert 'value="Volkswagen"' not in html


def test_issue18_the_passport_list_shows_the_registers_brand_and_model(world, login_as):
    """Issue 18: a passport with nothing typed is Volkswagen Golf on the list too."""
    browser = login_as("garage-jansen")
    _create(browser)
    page = browser.get("/passports/list/?_flt_0_plate=7ZTK17").get_data(as_text=True)
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "7-ZTK-17" in r]
    assert "Volkswagen" in row and "Golf" in row


def test_issue18_an_exported_register_filled_passport_uploaded_again_is_unchanged(world, login_as):
    """Issue 18 with R-BJ-1: the export carries the register's Volkswagen Golf and APK
    date; uploaded again, the list's values equal to the register's are the register's,
    so the row is "ongewijzigd" and the passport still stores nothing typed."""
    from sqlalchemy import select

    from admin_app.models import BatchJob

    browser = login_as("garage-jansen")
    _create(browser)
    exported = browser.get("/passports/export/csv?_flt_0_plate=7ZTK17")
    data = exported.get_data()
    assert b";Volkswagen;Golf;" in data
    response = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO(data), "export.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    world.session.expire_all()
    job = world.session.scalars(select(BatchJob).order_by(BatchJob.id.desc())).first()
    assert job.counts == {"create": 0, "update": 0, "unchanged": 1, "refused": 0}
    passport = world.passports(plate="7ZTK17")[0]
    assert (passport.brand, passport.model, passport.apk_expiry) == (None, None, None)
