"""Issue 18, read as Admin uses the "Voertuigregister" page: a refusal says what to do,
the nightly refresh says how to switch it on, the import page gives the file's size in
readable units."""

from __future__ import annotations

import pytest

from admin_app.jobs.register import import_register
from tests.conftest import DB_KIND
from tests.mails import run_queued
from tests.views.test_register_views_issue18 import (  # noqa: F401  (the upload folder)
    SAMPLES,
    _text,
    _upload,
    _upload_folder,
)

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens only; import in services")


def test_issue18_a_file_missing_a_column_is_refused_saying_what_to_do(app, world, login_as):
    admin = login_as("admin")
    data = (
        (SAMPLES / "rdw-voertuigen-voorbeeld.csv").read_bytes().replace(b'"kenteken"', b'"nr"', 1)
    )
    text = _text(_upload(admin, "voertuigen.csv", data).get_data(as_text=True))
    assert "mist de kolom kenteken." in text and "kolom(men)" not in text
    assert "Download het bestand opnieuw" in text and "opendata.rdw.nl" in text
    two = data.replace(b'"merk"', b'"fabrikant"', 1)
    text = _text(_upload(admin, "voertuigen.csv", two).get_data(as_text=True))
    assert "mist de kolommen kenteken, merk." in text


def test_issue18_a_broken_download_is_refused_saying_what_to_do(app, world, login_as):
    admin = login_as("admin")
    lines = (SAMPLES / "rdw-voertuigen-voorbeeld.csv").read_bytes().splitlines()
    answer = _upload(admin, "half.csv", b"\n".join(lines[:36]) + b"\n")
    run_queued(app, import_register)
    text = _text(admin.get(answer.headers["Location"]).get_data(as_text=True))
    assert "geweigerd" in text and "Download het bestand opnieuw en importeer dat." in text


def test_issue18_the_refresh_that_is_off_says_how_to_switch_it_on(app, world, login_as):
    assert not app.config.get("RDW_API_URL")
    text = _text(login_as("admin").get("/register/").get_data(as_text=True))
    assert "Uit:" in text
    assert "RDW_API_URL" in text and "RDW_APP_TOKEN" in text and "04:00" in text


@pytest.mark.parametrize("locale, point", [("nl", ","), ("en", ".")])
def test_issue18_the_import_page_gives_the_file_size_in_readable_units(
    app, world, login_as, locale, point
):
    admin = login_as("admin")
    data = (SAMPLES / "rdw-brandstof-voorbeeld.csv").read_bytes()
    size = f"{len(data) / 1000:.1f} kB".replace(".", point)  # 2,3 kB: not 2338 bytes
    answer = _upload(admin, "brandstof.csv", data)
    run_queued(app, import_register)
    text = _text(admin.get(answer.headers["Location"] + f"?_l_={locale}").get_data(as_text=True))
    assert size in text
