"""R-BJ-1, 2, 5, 7 on the garage's screens."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from admin_app.models import BatchJob, Customer, OutboxMessage, Passport

DATA = Path(__file__).resolve().parents[1] / "data"


def test_r_bj_1_templates_download_as_xlsx_and_csv(world, login_as):
    browser = login_as("garage-jansen")
    csv_file = browser.get("/batch-jobs/template.csv")
    assert csv_file.status_code == 200 and csv_file.data.startswith(b"\xef\xbb\xbfkenteken;email")
    xlsx = browser.get("/batch-jobs/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_r_bj_2_upload_shows_the_preview_with_reasons(world, login_as):
    browser = login_as("garage-devries")
    response = browser.post(
        "/batch-jobs/upload",
        {
            "file": (
                io.BytesIO((DATA / "klantenlijst-met-fouten.csv").read_bytes()),
                "klantenlijst-met-fouten.csv",
            )
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "45 nieuw" in page and "15 geweigerd" in page
    assert "Kenteken herhaalt rij" in page and "Bevestigen" in page


def test_r_bj_2_unreadable_upload_says_what_to_fix(world, login_as):
    browser = login_as("garage-devries")
    page = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO(b"naam;adres\r\nJan;Dorp\r\n"), "lijst.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "mist de kolom(men)" in page
    world.session.expire_all()
    assert world.session.scalars(select(BatchJob)).first() is None


def test_r_bj_7_incorrect_emails_corrected_and_resent(world, login_as):
    jansen = world.garage("Autobedrijf Jansen")
    bounced = (
        world.session.scalars(
            select(Passport)
            .join(Customer, Passport.owner_id == Customer.id)
            .where(Customer.email_bounced_at.is_not(None), Passport.garage_id == jansen.id)
        )
        .unique()
        .all()
    )
    browser = login_as("garage-jansen")
    page = browser.get("/invalid-emails/list/").get_data(as_text=True)
    assert f"Onjuiste e-mails ({len(bounced)})" in page
    target = bounced[0]
    browser.post(f"/invalid-emails/{target.id}/fix", {"email": "goed@example.nl", "resend": "y"})
    world.session.expire_all()
    fixed = world.session.get(Passport, target.id)
    assert fixed.owner.email == "goed@example.nl" and fixed.owner.email_bounced_at is None
    mail = world.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == "goed@example.nl" and mail.kind == "activation"
    assert f"Onjuiste e-mails ({len(bounced) - 1})" in browser.get(
        "/invalid-emails/list/"
    ).get_data(as_text=True)


def test_r_bj_7_support_sees_every_garage(world, login_as, api_client):
    page = login_as("support").get("/invalid-emails/list/").get_data(as_text=True)
    assert "Onjuiste e-mails (8)" in page  # 4 at each demo garage
    assert api_client("support").get("/api/v1/passport/invalid_emails").get_json()["count"] == 8
    assert (
        api_client("garage-jansen").get("/api/v1/passport/invalid_emails").get_json()["count"] == 4
    )
