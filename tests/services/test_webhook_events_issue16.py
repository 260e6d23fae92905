"""Issue 16: each event is raised by the rule that causes it, in its transaction, with
the API's fields of its resource — and a customer list's passports raise none each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import Transfer, WebhookEndpoint, WebhookEvent
from admin_app.models.base import utcnow
from admin_app.services import passports as rules
from admin_app.services import transfers, webhooks
from admin_app.services.audit import Actor
from admin_app.services.bounces import mark_bounced
from tests.conftest import DB_KIND
from tests.mails import mail_text
from tests.services.test_inspections import _jansen_passport, _new, _save
from tests.services.test_passports import ACTIVATE, create, person

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="where events are raised")


@pytest.fixture()
def listening(world):
    """Jansen's endpoint for every event (never delivered here)."""
    jansen = world.garage("Autobedrijf Jansen")
    world.session.add(
        WebhookEndpoint(
            garage_id=jansen.id,
            url="https://gms.example/hooks",
            events=list(webhooks.EVENT_TYPES),
            secret_encrypted="x",
            enabled=True,
        )
    )
    world.session.commit()
    return jansen


def _events(session, since=0):
    session.expire_all()
    return [
        (e.type, e.data)
        for e in session.scalars(
            select(WebhookEvent).where(WebhookEvent.id > since).order_by(WebhookEvent.id)
        )
    ]


def test_issue16_passport_created_sent_activated(world, acting_as, listening):
    s = world.session
    with acting_as("garage-jansen") as acting:
        passport = create(s, acting)
        with unit_of_work(s):
            rules.send_passport(s, passport.id, actor=acting.actor)
        raw = ACTIVATE.search(mail_text(s)).group(1)
    with acting_as(None), unit_of_work(s):
        rules.activate_passport(s, raw, password="geheim-wachtwoord", confirm="geheim-wachtwoord")
    events = _events(s)
    assert [t for t, _ in events] == ["passport.created", "passport.sent", "passport.activated"]
    assert [d["state"] for _, d in events] == ["created", "sent", "activated"]
    assert all(d["id"] == passport.id and d["garage_id"] == listening.id for _, d in events)
    assert not any("token" in str(d) or "/activate/" in str(d) for _, d in events)


def test_issue16_transfer_started_accepted_cancelled_expired(app, world, acting_as, listening):
    s = world.session
    cars = world.passports(garage_id=listening.id, state="activated", fleet_account_id=None)
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):  # a new e-mail: started and accepted at once (R-TR-2)
            transfers.start_transfer(
                s, cars[0].id, actor=acting.actor, person=person("koper@example.nl")
            )
        known = person("eigenaar@example.nl", "Eigenaar")
        with unit_of_work(s):  # a known Owner: waits for him
            waiting = transfers.start_transfer(
                s, cars[1].id, actor=acting.actor, person=known
            ).transfer
        with unit_of_work(s):
            transfers.cancel_transfer(s, waiting.id, actor=acting.actor)
        with unit_of_work(s):
            waiting = transfers.start_transfer(
                s, cars[1].id, actor=acting.actor, person=known
            ).transfer
    with app.app_context(), unit_of_work(s):  # as the worker's clock: it mails the starter
        transfers.expire_transfers(s, utcnow() + timedelta(days=15))
    mine = {
        t.id
        for t in s.scalars(
            select(Transfer).where(Transfer.passport_id.in_([cars[0].id, cars[1].id]))
        )
    }
    events = [(t, d) for t, d in _events(s) if d["id"] in mine]
    assert [t for t, _ in events] == [
        "transfer.started",
        "transfer.accepted",
        "transfer.started",
        "transfer.cancelled",
        "transfer.started",
        "transfer.expired",
    ]
    assert events[-1][1]["id"] == waiting.id and events[-1][1]["state"] == "expired"
    assert set(events[0][1]) == set(webhooks.TRANSFER_FIELDS)
    assert s.get(Transfer, waiting.id).garage_id == listening.id


def test_issue16_email_bounced_goes_to_the_customers_garage_only(world, acting_as, listening):
    s = world.session
    customer = world.passports(garage_id=listening.id)[0].owner
    with unit_of_work(s):
        mark_bounced(s, customer.email.upper(), now=utcnow(), actor=Actor.job("bounce"))
    events = _events(s)
    assert events and all(t == "email.bounced" for t, _ in events)
    assert {d["garage_id"] for _, d in events} == {listening.id}
    assert customer.id in {d["id"] for _, d in events}


def test_issue16_inspection_form_saved(world, acting_as, listening):
    s = world.session
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        _save(s, acting, form)
    ((event_type, data),) = _events(s)
    assert event_type == "inspection_form.saved" and data["id"] == form.id
    assert data["version"] == 1 and set(data) == set(webhooks.INSPECTION_FORM_FIELDS)


def test_issue16_a_garage_without_endpoints_gets_no_event_rows(world, acting_as):
    s = world.session
    with acting_as("garage-jansen") as acting:
        create(s, acting)
    assert _events(s) == []
