"""Issue 16, signed webhooks: the rules without HTTP — address vetting (SSRF), secrets,
events written in their cause's transaction, and the payloads the API's fields."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from admin_app.domain.errors import InvalidInput, NotFound
from admin_app.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from admin_app.services import webhooks
from admin_app.services.passports import PersonDetails, create_passport
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="address rules: no database work")


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "169.254.169.254",
        "127.0.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "fe80::1",
        "fc00::1",
        "224.0.0.1",
    ],
)
def test_issue16_ssrf_addresses_not_on_the_internet_are_refused(address):
    """Issue 16 (R-SEC): not globally routable, IPv4-mapped unwrapped → refused."""
    assert not webhooks.address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "::ffff:8.8.8.8"])
def test_issue16_ssrf_public_addresses_pass(address):
    assert webhooks.address_allowed(address)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a00:1",  # NAT64 (DNS64 networks, cloud IPv6-only subnets) to 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # … to 169.254.169.254
        "64:ff9b::7f00:1",  # … to 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "::a00:1",
        "fec0::1",  # site-local (deprecated, still routed on some networks)
    ],
)
def test_issue16_attack_ipv6_with_a_private_ipv4_inside_is_refused(address):
    """Issue 16 (R-SEC): Python's is_global calls these global; the IPv4 address they
    carry (or the deprecated range) says otherwise."""
    assert not webhooks.address_allowed(address)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1"])
def test_issue16_attack_ipv6_with_a_public_ipv4_inside_passes(address):
    """A DNS64 network hands an IPv4-only receiver to the worker as 64:ff9b::/96."""
    assert webhooks.address_allowed(address)


def _resolving_to(monkeypatch, *addresses):
    def fake(host, port, type=0, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_issue16_a_name_resolving_to_loopback_is_refused(app, monkeypatch):
    """Issue 16: one private address among the name's answers is enough to refuse it."""
    _resolving_to(monkeypatch, "93.184.215.14", "127.0.0.1")
    with app.app_context(), pytest.raises(webhooks.WebhookRefused) as refused:
        webhooks.vet_url("https://hooks.example.com/in")
    assert "127.0.0.1" in str(refused.value)
    _resolving_to(monkeypatch, "93.184.215.14", "2606:4700::6810:84e5")
    with app.app_context():
        vetted = webhooks.vet_url("https://hooks.example.com:8443/in?x=1")
    assert vetted.addresses == ("2606:4700::6810:84e5", "93.184.215.14")
    assert (vetted.port, vetted.target) == (8443, "/in?x=1")


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",  # not HTTPS
        "https://hooks.example.com:8080/in",  # not 443/8443
        "https://user:pw@hooks.example.com/in",
        "ftp://hooks.example.com/",
        "https:///nohost",
        "https://127.0.0.1/in",
        "https://[::1]/in",
        "https://[::ffff:127.0.0.1]/in",
        "http://127.0.0.1:8000/in",
    ],
)
def test_issue16_urls_refused_without_the_test_setting(app, monkeypatch, url):
    _resolving_to(monkeypatch, "93.184.215.14")
    if "127.0.0.1" in url or "::" in url:
        monkeypatch.undo()  # the literal address itself
    with app.app_context(), pytest.raises(webhooks.WebhookRefused):
        webhooks.vet_url(url)


@pytest.mark.parametrize("url", ["https://localhost/in", "https://bad\x00name.example/"])
def test_issue16_a_real_name_resolving_to_loopback_and_nonsense_are_refused(app, url):
    """Issue 16: localhost really resolves to 127.0.0.1 / ::1 — refused, no 500."""
    with app.app_context(), pytest.raises(webhooks.WebhookRefused):
        webhooks.vet_url(url)


def test_issue16_allow_private_allows_http_and_loopback(app):
    with app.app_context():
        assert webhooks.vet_url("http://127.0.0.1:8123/x", allow_private=True).addresses == (
            "127.0.0.1",
        )


def test_issue16_secret_shown_once_stored_encrypted_and_signs_as_standard_webhooks(app):
    from standardwebhooks.webhooks import Webhook

    with app.app_context():
        secret = webhooks.new_secret()
        stored = webhooks.encrypt_secret(secret)
        assert secret.startswith("whsec_") and secret not in stored
        assert webhooks.decrypt_secret(stored) == secret
        signature = webhooks.sign(secret, "msg_1", 1700000000, b'{"a":1}')
    import datetime as dt

    expected = Webhook(secret).sign(
        "msg_1", dt.datetime.fromtimestamp(1700000000, dt.UTC), b'{"a":1}'
    )
    assert signature == expected


def test_issue16_register_emits_in_the_cause_transaction_and_rolls_back_with_it(
    app, world, acting_as
):
    """Issue 16: an event is written with its cause; a rolled-back cause leaves none."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        with acting_as("garage-jansen") as acting:
            session = world.session
            with pytest.raises(InvalidInput):
                webhooks.register_endpoint(
                    session, url="http://127.0.0.1:9/x", events=[], actor=acting.actor
                )
            endpoint, secret = webhooks.register_endpoint(
                session,
                url="http://127.0.0.1:9/x",
                events=["passport.created", "nonsense"],
                actor=acting.actor,
            )
            assert endpoint.events == ["passport.created"] and secret.startswith("whsec_")
            session.commit()
            passport = create_passport(
                session,
                actor=acting.actor,
                plate="99-XYZ-1",
                person=PersonDetails(email="nieuw@example.nl", last_name="Nieuw"),
            )
            hook_event = session.scalars(select(WebhookEvent)).one()
            assert hook_event.type == "passport.created"
            assert hook_event.data["id"] == passport.id
            assert hook_event.data["plate_display"] == "99-XYZ-1"
            assert set(hook_event.data) == set(webhooks.PASSPORT_FIELDS)
            assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
            session.rollback()
            assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False


def test_issue16_another_garage_sees_no_endpoint(app, world, acting_as):
    """Issue 16 (R-SEC-1): endpoints are tenant rows; FleetManager and Owner see none."""
    jansen = world.garage("Autobedrijf Jansen")
    world.session.add(
        WebhookEndpoint(
            garage_id=jansen.id,
            url="https://x.example/",
            events=["passport.sent"],
            secret_encrypted="x",
            enabled=True,
        )
    )
    world.session.commit()
    endpoint_id = world.session.scalar(select(WebhookEndpoint.id))
    for username in ("garage-devries", "fleet-bakker", "eigenaar"):
        with acting_as(username):
            assert webhooks.list_endpoints(world.session) == []
            with pytest.raises(NotFound):
                webhooks.get_endpoint(world.session, endpoint_id)
    with acting_as("garage-jansen"):
        assert [e.id for e in webhooks.list_endpoints(world.session)] == [endpoint_id]


def test_issue16_payload_fields_are_the_apis():
    """Issue 16: a payload holds the fields of the API's result for its resource."""
    from admin_app.api.inspections import InspectionFormApi
    from admin_app.api.resources import BatchJobApi, CustomerApi, PassportApi, TransferApi

    assert list(webhooks.PASSPORT_FIELDS) == PassportApi.list_columns
    assert list(webhooks.TRANSFER_FIELDS) == TransferApi.list_columns
    assert list(webhooks.BATCH_JOB_FIELDS) == BatchJobApi.list_columns
    assert list(webhooks.CUSTOMER_FIELDS) == CustomerApi.list_columns
    assert list(webhooks.INSPECTION_FORM_FIELDS) == InspectionFormApi.show_columns


def test_issue16_attack_a_garage_has_a_bounded_number_of_endpoints(app, world, acting_as):
    """Issue 16 (signed webhooks): every event is a delivery per endpoint, by one shared
    worker: a garage registering thousands of endpoints (to a slow server, 5 s each)
    starved every other garage's deliveries. Refused in words after MAX_ENDPOINTS."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        with acting_as("garage-jansen") as acting:
            session = world.session
            for n in range(webhooks.MAX_ENDPOINTS):
                webhooks.register_endpoint(
                    session,
                    url=f"http://127.0.0.1:9/{n}",
                    events=["passport.created"],
                    actor=acting.actor,
                )
            with pytest.raises(InvalidInput) as refused:
                webhooks.register_endpoint(
                    session,
                    url="http://127.0.0.1:9/one-more",
                    events=["passport.created"],
                    actor=acting.actor,
                )
            assert "url" in refused.value.errors
            assert str(webhooks.MAX_ENDPOINTS) in str(refused.value.message)
        with acting_as("garage-devries") as acting:  # another garage's count is its own
            webhooks.register_endpoint(
                world.session,
                url="http://127.0.0.1:9/x",
                events=["passport.created"],
                actor=acting.actor,
            )
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (None, None),
        ("SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] …", "certificate"),
        ("SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number", "secure (HTTPS)"),
        ("no answer within 5 s", "within 5 seconds"),
        ("ConnectionRefusedError: [Errno 111] Connection refused", "refused the connection"),
        ("RemoteDisconnected: Remote end closed connection", "could not be reached"),
        ("the secret is unreadable: rotate it", "make a new secret"),
        ("192.168.1.10 is not on the public internet", "192.168.1.10 is not on the public"),
    ],
)
def test_issue16_use_a_failed_attempt_in_words(app, stored, words):
    """Signed webhooks, R-X-2: the log's reason is words, not Python's exception text; a
    refusal the console worded itself stays as it is."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        problem = webhooks.delivery_problem(stored)
    if words is None:
        assert problem is None
    else:
        assert words in problem and "Error" not in problem and "SSL:" not in problem


@pytest.mark.parametrize("address", ["192.168.1.10", "fd00::1"])
def test_issue16_use_an_address_typed_as_the_host_is_named_once(app, address):
    """Signed webhooks, R-X-2: "192.168.1.10 points to an address … (192.168.1.10)" said
    the address twice; typed as the host it is named once, in words."""
    from flask_babel import force_locale

    host = f"[{address}]" if ":" in address else address
    with app.test_request_context(), force_locale("nl"):
        with pytest.raises(InvalidInput) as refused:
            webhooks.vet_url(f"https://{host}/hook", allow_private=False)
        message = str(refused.value.message)
    assert message.count(address) == 1
    assert "geen adres op het openbare internet" in message
