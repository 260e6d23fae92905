"""The data export's screens and API (issue 19, R-DR-1): asked for from the customer's page
or "Mijn voertuigen", followed, downloaded by the requester only."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from admin_app.jobs.data_exports import build_data_export
from admin_app.models import Customer
from tests.conftest import DB_KIND
from tests.mails import run_queued

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens, one database")


@pytest.fixture(autouse=True)
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_EXPORT_FOLDER", str(tmp_path))
    return tmp_path


def _customer_of(world, garage_name: str) -> Customer:
    garage = world.garage(garage_name)
    return (
        world.session.scalars(
            select(Customer).where(
                Customer.garage_id == garage.id, func.lower(Customer.email) == "eigenaar@example.nl"
            )
        ).first()
        or world.session.scalars(
            select(Customer).where(Customer.garage_id == garage.id).order_by(Customer.id)
        ).first()
    )


def test_issue19_garage_exports_its_customer_and_downloads(app, world, login_as):
    """R-DR-1: "Gegevens exporteren" on the customer's page, a page with the progress in
    words, the download once ready; a colleague's login at another garage gets 404."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    garage = login_as("garage-jansen")
    page = garage.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert "Gegevens exporteren" in page
    assert "Elke garage waar dit e-mailadres klant is" not in page  # Support's choice only
    answer = garage.post(f"/data-exports/customer/{customer.id}")
    assert answer.status_code == 302
    url = answer.headers["Location"]
    export_id = int(re.search(r"/data-exports/(\d+)", url)[1])
    page = garage.get(url).get_data(as_text=True)
    assert "Wordt gemaakt" in page and "Downloaden" not in page
    assert run_queued(app, build_data_export) == 1
    page = garage.get(url).get_data(as_text=True)
    assert "Klaar om te downloaden" in page and "Download het ZIP-bestand" in page
    download = garage.get(f"/data-exports/{export_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert {"overzicht.html", "gegevens.json"} <= set(names)
    other = login_as("garage-devries")
    assert other.get(url).status_code == 404
    assert other.get(f"/data-exports/{export_id}/download").status_code == 404
    assert other.post(f"/data-exports/customer/{customer.id}").status_code == 404


def test_issue19_support_and_owner_ask_from_their_pages(app, world, login_as):
    """R-DR-1: Support may choose every garage; the Owner exports himself from "Mijn
    voertuigen"; a POST without CSRF token changes nothing."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    support = login_as("support")
    page = support.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert "Elke garage waar dit e-mailadres klant is" in page
    answer = support.post(f"/data-exports/customer/{customer.id}", {"whole_person": "y"})
    assert "Het omvat elke garage" in support.get(answer.headers["Location"]).get_data(as_text=True)
    owner = login_as("eigenaar")
    assert "Mijn gegevens exporteren" in owner.get("/my-vehicles/list/").get_data(as_text=True)
    assert owner.post("/data-exports/mine", csrf=False).status_code == 400
    answer = owner.post("/data-exports/mine")
    assert "/data-exports/" in answer.headers["Location"]
    assert owner.post(f"/data-exports/customer/{customer.id}").status_code == 404  # no right


def test_issue19_api_export_state_and_download(app, world, api_client):
    """R-DR-1: POST → 202 {id, state}; GET → state, progress; download once ready; 404 for
    anyone but the requester, in the contract's shape."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    api = api_client("garage-jansen")
    refused = api.post(f"/api/v1/customer/{customer.id}/export", json={"whole_person": "wel"})
    assert refused.status_code == 422 and "whole_person" in refused.get_json()["errors"]
    assert api.post(f"/api/v1/customer/{customer.id}/export", json=[1]).status_code == 400
    answer = api.post(f"/api/v1/customer/{customer.id}/export", json={})
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["state"] == "building"
    export_id = body["id"]
    not_ready = api.get(f"/api/v1/data_export/{export_id}/download")
    assert not_ready.status_code == 409 and "message" in not_ready.get_json()
    assert run_queued(app, build_data_export) == 1
    state = api.get(f"/api/v1/data_export/{export_id}").get_json()
    assert (state["state"], state["progress"]) == ("ready", 100)
    download = api.get(f"/api/v1/data_export/{export_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    for other in ("garage-devries", "support"):
        client = api_client(other)
        refused = client.get(f"/api/v1/data_export/{export_id}/download")
        assert refused.status_code == 404 and "message" in refused.get_json()
        assert client.get(f"/api/v1/data_export/{export_id}").status_code == 404
    other_garage = api_client("garage-devries")
    assert other_garage.post(f"/api/v1/customer/{customer.id}/export").status_code == 404
    assert api_client("eigenaar").post(f"/api/v1/customer/{customer.id}/export").status_code in (
        403,
        404,
    )


def test_issue19_use_the_export_page_can_be_found_again(app, world, login_as):
    """The export's page says "you may leave it: the file waits here", but nothing led back
    to it: the customer's page and "Mijn voertuigen" link the requester's open export."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    garage = login_as("garage-jansen")
    url = garage.post(f"/data-exports/customer/{customer.id}").headers["Location"]
    export_path = re.search(r"/data-exports/\d+", url)[0]
    page = garage.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert f'href="{export_path}"' in page and "Uw export van" in page
    assert run_queued(app, build_data_export) == 1
    page = garage.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    assert f'href="{export_path}"' in page and "Klaar om te downloaden" in page
    # A colleague sees no link to an export only its requester may open.
    other = login_as("support")
    assert export_path not in other.get(f"/customers/show/{customer.id}").get_data(as_text=True)
    owner = login_as("eigenaar")
    mine = owner.post("/data-exports/mine").headers["Location"]
    mine_path = re.search(r"/data-exports/\d+", mine)[0]
    assert f'href="{mine_path}"' in owner.get("/my-vehicles/list/").get_data(as_text=True)


def test_issue19_use_the_export_page_names_whose_export_it_is(app, world, login_as):
    """A garage asks for several customers' exports: each page's title names the customer."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    garage = login_as("garage-jansen")
    url = garage.post(f"/data-exports/customer/{customer.id}").headers["Location"]
    page = garage.get(url).get_data(as_text=True)
    assert f"Gegevensexport van {customer.full_name}" in page


def test_issue19_use_the_owners_own_export_page_speaks_to_him(app, world, login_as):
    """The Owner's own export read "elke garage waar deze persoon klant is": he is "u"."""
    owner = login_as("eigenaar")
    url = owner.post("/data-exports/mine").headers["Location"]
    page = owner.get(url).get_data(as_text=True)
    assert "Het omvat elke garage waar u klant bent." in page
    assert "deze persoon" not in page
