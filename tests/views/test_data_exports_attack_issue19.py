"""Issue 19 (attack): the data export as a hostile garage or outsider tries it (R-DR-1)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from admin_app.demo import _demo_password_hash
from admin_app.jobs.data_exports import build_data_export
from admin_app.models import ConsoleUser, DataExport
from admin_app.models.data_exports import GARAGE_CUSTOMER
from tests.api.test_api_keys_issue16 import calling, make_key
from tests.conftest import DB_KIND
from tests.mails import run_queued
from tests.views.test_data_exports_issue19 import _customer_of

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens, one database")


@pytest.fixture(autouse=True)
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_EXPORT_FOLDER", str(tmp_path))
    return tmp_path


def _colleague_of(world, username: str) -> str:
    """A second login at the same garage, with the same roles."""
    session = world.session
    user = session.scalars(select(ConsoleUser).where(ConsoleUser.username == username)).one()
    session.add(
        ConsoleUser(
            username="collega",
            first_name="Co",
            last_name="Llega",
            email="collega@autobedrijf-jansen.nl",
            active=True,
            password=_demo_password_hash(),
            garage_id=user.garage_id,
            roles=list(user.roles),
        )
    )
    session.commit()
    return "collega"


def test_issue19_attack_only_the_requester_ever_reaches_an_export(app, world, login_as, api_client):
    """R-DR-1: a colleague at the same garage, the garage's own API key, Support, Admin and
    the Owner get 404 on the page, the state and the download; ids that are no export's
    (text, negative, zero, huge) are 404 in the contract's shape; a garage's
    ``whole_person`` does not widen its export."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    garage = login_as("garage-jansen")
    answer = garage.post(f"/data-exports/customer/{customer.id}", {"whole_person": "y"})
    export_id = int(re.search(r"/data-exports/(\d+)", answer.headers["Location"])[1])
    world.session.expire_all()
    assert world.session.get(DataExport, export_id).scope == GARAGE_CUSTOMER
    assert run_queued(app, build_data_export) == 1
    key = calling(app, make_key(garage))
    for path in (f"/api/v1/data_export/{export_id}", f"/api/v1/data_export/{export_id}/download"):
        refused = key.get(path)
        assert refused.status_code == 404 and "message" in refused.get_json()
    for username in (_colleague_of(world, "garage-jansen"), "support", "admin", "eigenaar"):
        other = login_as(username)
        assert other.get(f"/data-exports/{export_id}").status_code == 404, username
        assert other.get(f"/data-exports/{export_id}/download").status_code == 404, username
    api = api_client("garage-jansen")
    for bad in ("abc", "-1", "0", "99999999999999999999", "1.5"):
        for tail in ("", "/download"):
            refused = api.get(f"/api/v1/data_export/{bad}{tail}")
            assert refused.status_code == 404 and "message" in refused.get_json(), (bad, tail)
    wide = key.post(f"/api/v1/customer/{customer.id}/export", json={"whole_person": True})
    assert wide.status_code == 202
    world.session.expire_all()
    assert world.session.get(DataExport, wide.get_json()["id"]).scope == GARAGE_CUSTOMER


def test_issue19_attack_asking_again_while_one_is_made_queues_no_second(
    app, world, api_client, login_as
):
    """R-DR-1: a garage (or its script) that asks for the same customer's export again and
    again while one is still being made gets that one back: the worker builds one ZIP, not
    a thousand (each with its PDFs, each on disk for 7 days). Once it is ready, a new ask
    makes a new one."""
    customer = _customer_of(world, "Autobedrijf Jansen")
    api = api_client("garage-jansen")
    first = api.post(f"/api/v1/customer/{customer.id}/export", json={}).get_json()["id"]
    for _ in range(3):
        again = api.post(f"/api/v1/customer/{customer.id}/export", json={})
        assert again.status_code == 202 and again.get_json()["id"] == first
    owner = login_as("eigenaar")
    mine = {owner.post("/data-exports/mine").headers["Location"] for _ in range(3)}
    assert len(mine) == 1
    count = world.session.scalar(select(func.count()).select_from(DataExport))
    assert count == 2
    assert run_queued(app, build_data_export) == 2
    later = api.post(f"/api/v1/customer/{customer.id}/export", json={}).get_json()["id"]
    assert later != first


def test_issue19_attack_a_cars_earlier_owner_stays_out_of_the_invitations(app, world, login_as):
    """R-DR-1: an inspection invitation registered before a car was transferred to him is
    the earlier owner's (his note, his wanted date): like that owner's inspection forms it
    stays out of the new owner's export; his own later one is in."""
    import datetime as dt
    import io
    import json
    import zipfile

    from admin_app.models import InspectionInvitation, Passport, Transfer
    from admin_app.models.base import utcnow

    customer = _customer_of(world, "Autobedrijf Jansen")
    session = world.session
    car = session.scalars(
        select(Passport).where(Passport.owner_id == customer.id).order_by(Passport.id)
    ).first()
    bought = utcnow() - dt.timedelta(days=30)
    session.add_all(
        [
            InspectionInvitation(
                garage_id=car.garage_id,
                passport_id=car.id,
                note="Notitie van de vorige eigenaar",
                registered_at=bought - dt.timedelta(days=60),
            ),
            Transfer(
                passport_id=car.id,
                garage_id=car.garage_id,
                kind="owner",
                state="accepted",
                to_customer_id=customer.id,
                to_email=customer.email,
                created_by="Systeem",
                created_at=bought - dt.timedelta(days=1),
                decided_at=bought,
            ),
            InspectionInvitation(
                garage_id=car.garage_id,
                passport_id=car.id,
                note="Mijn eigen notitie",
                registered_at=bought + dt.timedelta(days=1),
            ),
        ]
    )
    session.commit()
    garage = login_as("garage-jansen")
    answer = garage.post(f"/data-exports/customer/{customer.id}")
    export_id = int(re.search(r"/data-exports/(\d+)", answer.headers["Location"])[1])
    assert run_queued(app, build_data_export) == 1
    archive = zipfile.ZipFile(io.BytesIO(garage.get(f"/data-exports/{export_id}/download").data))
    notes = [row["note"] for row in json.loads(archive.read("gegevens.json"))["invitations"]]
    assert notes == ["Mijn eigen notitie"]
    assert "vorige eigenaar" not in archive.read("overzicht.html").decode()


def test_issue19_attack_an_erase_during_the_build_leaves_no_zip(app, world, api_client, folder):
    """R-DR-1, R-DR-2: a build that read his data before Support's erase committed and
    finishes after it must not leave a ZIP of him ready for 7 days: the erase fails the
    exports still being made about him, and a build that finishes such an export throws
    its file away."""
    from admin_app.models.base import utcnow
    from admin_app.models.data_exports import FAILED, READY
    from admin_app.services import data_exports
    from tests.api.test_erase_api_issue19 import BODY, quiet_customer

    customer = quiet_customer(world)
    asked = api_client("garage-jansen").post(f"/api/v1/customer/{customer.id}/export", json={})
    export_id = asked.get_json()["id"]
    session = world.session
    assert data_exports.claim(session, export_id, utcnow())  # the worker has started
    session.commit()  # as the job commits its claim (jobs/data_exports)
    erased = api_client("support").post(f"/api/v1/customer/{customer.id}/erase", json=BODY)
    assert erased.status_code == 200
    # The build, having read him before the erase, writes its ZIP and finishes.
    written = folder / f"data-export-{export_id}.zip"
    written.write_bytes(b"PK his data as it was")
    with app.test_request_context("/"):
        data_exports.finish(session, export_id, written.name, utcnow())
        session.commit()
    session.expire_all()
    export = session.get(DataExport, export_id)
    assert export.state != READY and export.state == FAILED
    assert not written.exists()
