"""Issue 16 (R-PP-6, R-X-4, R-SEC-1, R-SEC-2): garage API keys, the rules without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import ApiKey, AuditLog
from admin_app.models.base import utcnow
from admin_app.services import api_keys
from admin_app.services.audit import Actor, actor_name, describe_entries
from tests import factories
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="plain rules; the API tests run both")

SIGNING = "test-secret-that-is-long-enough-for-hs256"


def make_key(session, acting, name="Autosoft"):
    with unit_of_work(session):
        return api_keys.create_api_key(session, name, actor=acting.actor, signing_key=SIGNING)


def test_issue16_a_key_is_stored_only_as_its_hmac_and_authenticates(
    empty_world, acting_in_empty_world
):
    """R-X-4: gk_ + ≥ 32 random bytes; the database holds an HMAC keyed by SECRET_KEY."""
    world, jansen = empty_world, factories.garage(empty_world.session, name="Autobedrijf Jansen")
    staff = factories.garage_login(world.session, jansen, username="garage-jansen")
    with acting_in_empty_world(staff) as acting:
        key, secret = make_key(world.session, acting)
        assert secret.startswith("gk_") and len(secret) >= 3 + 43
        stored = world.session.get(ApiKey, key.id)
        assert secret not in (stored.key_hash, stored.prefix) and secret.startswith(stored.prefix)
        assert api_keys.authenticate(world.session, secret, signing_key=SIGNING).id == key.id
        # Another SECRET_KEY (rotated) voids it; so does any other secret.
        assert api_keys.authenticate(world.session, secret, signing_key="other") is None
        assert api_keys.authenticate(world.session, secret + "x", signing_key=SIGNING) is None
        user = key.service_user
        assert {r.name for r in user.roles} == {"Garage"}
        assert user.garage_id == world.garage("Autobedrijf Jansen").id and not user.password


def test_issue16_only_a_garage_makes_keys_with_a_name_of_its_own(world, acting_as):
    """R-X-4: a key belongs to a garage; names are required and distinct."""
    with acting_as("garage-jansen") as acting:
        make_key(world.session, acting)
        with pytest.raises(Conflict):
            make_key(world.session, acting, " Autosoft ")
        with pytest.raises(InvalidInput):
            make_key(world.session, acting, "  ")
    for username in ("admin", "support", "fleet-bakker"):
        with acting_as(username) as acting, pytest.raises(Forbidden):
            make_key(world.session, acting)


def test_issue16_revoking_voids_the_key_and_is_audited(empty_world, acting_in_empty_world):
    """R-SEC-2: revoking writes an audit row; the key no longer authenticates."""
    world, jansen = empty_world, factories.garage(empty_world.session, name="Autobedrijf Jansen")
    staff = factories.garage_login(world.session, jansen, username="garage-jansen")
    with acting_in_empty_world(staff) as acting:
        key, secret = make_key(world.session, acting)
        with unit_of_work(world.session):
            api_keys.revoke_api_key(world.session, key.id, actor=acting.actor)
        assert api_keys.authenticate(world.session, secret, signing_key=SIGNING) is None
        entry = world.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "api_key", AuditLog.action == "update")
        ).one()
        assert "revoked_at" in entry.changes and entry.actor_name == "garage-jansen"
        made = world.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "api_key", AuditLog.action == "insert")
        ).one()
        assert made.changes["key_hash"] == [None, "***"]
        # As a reader sees it: the name, the prefix and who; no ids or hashes.
        (described,) = describe_entries(world.session, [made], "nl")
        assert described.what == "API-sleutel gemaakt"
        fields = {change.label for change in described.changes}
        assert {"Naam", "Sleutel"} <= fields and not any("_" in f for f in fields)


def test_issue16_another_garage_neither_sees_nor_revokes_a_key_admin_does(world, acting_as):
    """R-SEC-1: keys are tenant rows; Admin revokes any garage's key."""
    with acting_as("garage-jansen") as acting:
        key, _ = make_key(world.session, acting)
        key_id = key.id
    with acting_as("garage-devries") as acting:
        assert api_keys.list_api_keys(world.session) == []
        with pytest.raises(NotFound):
            api_keys.revoke_api_key(world.session, key_id, actor=acting.actor)
    for username in ("fleet-bakker", "eigenaar"):
        with acting_as(username):
            assert api_keys.list_api_keys(world.session) == []
    with acting_as("admin") as acting:
        assert [k.id for k in api_keys.list_api_keys(world.session)] == [key_id]
        with unit_of_work(world.session):
            api_keys.revoke_api_key(world.session, key_id, actor=acting.actor)
        assert world.session.get(ApiKey, key_id).revoked_at is not None


def test_issue16_last_used_is_written_at_most_once_a_minute(empty_world, acting_in_empty_world):
    """R-X-4: no write per request."""
    world = empty_world
    staff = factories.garage_login(world.session, factories.garage(world.session))
    with acting_in_empty_world(staff) as acting:
        key, _ = make_key(world.session, acting)
        now = utcnow()
        assert api_keys.note_use(world.session, key, now=now)
        world.session.refresh(key)
        assert not api_keys.note_use(world.session, key, now=now + timedelta(seconds=59))
        assert api_keys.note_use(world.session, key, now=now + timedelta(seconds=61))


def test_issue16_the_log_names_a_keys_actions_after_the_key(app):
    """R-SEC-2: "API-sleutel <name>" in Dutch, "API key <name>" in English."""
    from flask_babel import force_locale

    key = ApiKey(name="Autosoft", garage_id=1)
    user = type("ServiceUser", (), {"id": 7, "roles": []})()
    stored = Actor.of_api_key(key, user).name
    with app.test_request_context("/"):
        with force_locale("nl"):
            assert actor_name(stored) == "API-sleutel Autosoft"
        with force_locale("en"):
            assert actor_name(stored) == "API key Autosoft"
