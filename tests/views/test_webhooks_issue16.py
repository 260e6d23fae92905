"""Issue 16: the garage's webhooks screen — add (secret shown once), rotate, switch off
and on, delete, the delivery log with "send again"; in Dutch; other roles see nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import DB_KIND
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens; the rules run on both")
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture()
def private_allowed(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False


def test_issue16_garage_adds_an_endpoint_sees_the_secret_once_and_manages_it(
    app, world, login_as, private_allowed
):
    browser = login_as("garage-jansen")
    page = browser.get("/webhooks/").get_data(as_text=True)
    assert "Nog geen endpoints." in page and "Nieuw endpoint" in page
    form = browser.get("/webhooks/new").get_data(as_text=True)
    assert "Een AutoPaspoort is naar de eigenaar verstuurd" in form
    assert "passport.sent" in form  # the checkbox's value, not its words

    refused = browser.post("/webhooks/new", {"url": "ftp://x", "events": ["passport.sent"]})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "moet met https:// beginnen" in text
    assert 'value="ftp://x"' in text  # nothing typed is lost

    with Receiver() as receiver:
        made = browser.post(
            "/webhooks/new", {"url": receiver.url, "events": ["passport.sent", "passport.created"]}
        )
        assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
        secret = SECRET.search(made.get_data(as_text=True)).group(0)
        assert "alleen deze ene keer getoond" in made.get_data(as_text=True)
        endpoint = world.session.scalars(select(WebhookEndpoint)).one()
        assert secret not in endpoint.secret_encrypted
        listed = browser.get("/webhooks/").get_data(as_text=True)
        assert receiver.url in listed and secret not in listed and "Aan" in listed

        rotated = browser.post(f"/webhooks/{endpoint.id}/rotate").get_data(as_text=True)
        assert SECRET.search(rotated).group(0) != secret

        jansen = world.garage("Autobedrijf Jansen")
        unsent = world.passports(garage_id=jansen.id, state="created")[0]
        sent = browser.post(f"/passports/{unsent.id}/send", follow_redirects=True)
        assert "verstuurd" in sent.get_data(as_text=True)
        from admin_app.extensions import db
        from admin_app.jobs.webhooks import deliver_due

        with app.app_context():
            deliver_due()
            db.session.remove()
        log = browser.get(f"/webhooks/{endpoint.id}/log").get_data(as_text=True)
        assert "Afgeleverd" in log and "Status 200" in log and "Opnieuw versturen" in log
        delivery = world.session.scalars(select(WebhookDelivery)).one()
        again = browser.post(
            f"/webhooks/{endpoint.id}/log/{delivery.id}/send-again", follow_redirects=True
        )
        assert "opnieuw verstuurd" in again.get_data(as_text=True)
        world.session.expire_all()
        assert world.session.get(WebhookDelivery, delivery.id).state == "pending"

    off = browser.post(f"/webhooks/{endpoint.id}/switch-off", follow_redirects=True)
    assert "Uitgezet" in off.get_data(as_text=True)
    world.session.expire_all()
    assert world.session.get(WebhookDelivery, delivery.id).state == "cancelled"
    on = browser.post(f"/webhooks/{endpoint.id}/switch-on", follow_redirects=True)
    assert "Aanzetten" not in on.get_data(as_text=True)
    gone = browser.post(f"/webhooks/{endpoint.id}/delete", follow_redirects=True)
    assert "Nog geen endpoints." in gone.get_data(as_text=True)


@pytest.mark.parametrize("username", ["fleet-bakker", "eigenaar", "support"])
def test_issue16_other_roles_have_no_webhooks_screen(world, login_as, username):
    response = login_as(username).get("/webhooks/")
    assert response.status_code in (302, 403, 404)


def test_issue16_use_the_log_names_a_failed_attempt_in_words(world, login_as, private_allowed):
    """Signed webhooks, R-X-2: the delivery log says why an attempt failed in the garage's
    language; the worker's technical text (English, from Python's TLS) only behind a fold."""
    browser = login_as("garage-jansen")
    browser.post("/webhooks/new", {"url": "http://127.0.0.1:9/hook", "events": ["passport.sent"]})
    endpoint = world.session.scalars(select(WebhookEndpoint)).one()
    jansen = world.garage("Autobedrijf Jansen")
    unsent = world.passports(garage_id=jansen.id, state="created")[0]
    browser.post(f"/passports/{unsent.id}/send")
    delivery = world.session.scalars(select(WebhookDelivery)).one()
    technical = (
        "SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify"
        " failed: IP address mismatch"
    )
    delivery.attempts, delivery.error = 1, technical
    world.session.commit()

    log = browser.get(f"/webhooks/{endpoint.id}/log").get_data(as_text=True)
    words = "Het HTTPS-certificaat van de server is niet geldig voor dit adres."
    assert words in log
    assert log.index("<summary>Technische melding</summary>") < log.index("CERTIFICATE_VERIFY")


def test_issue16_use_the_screens_speak_the_consoles_words(world, login_as, private_allowed):
    """Signed webhooks, R-X-2: the webhook screens call an inspection form what the menu calls
    it (inspectieformulier, not keuringsformulier), and the secret page sends the garage to its
    system's supplier, not to a README it never sees."""
    browser = login_as("garage-jansen")
    for path in ("/webhooks/", "/webhooks/new"):
        page = browser.get(path).get_data(as_text=True)
        assert "keuring" not in page.lower() and "garagemanagementsysteem" not in page
    assert "Een inspectieformulier is opgeslagen" in page
    made = browser.post(
        "/webhooks/new", {"url": "http://127.0.0.1:9/h", "events": ["passport.sent"]}
    )
    secret_page = made.get_data(as_text=True)
    assert "whsec_" in secret_page
    assert "README" not in secret_page and "leverancier van uw systeem" in secret_page
