"""Issue 16 (R-PP-6, R-X-4, R-SEC-1, R-SEC-2): a garage's management system calls the API
with `Authorization: Bearer gk_…` — made and revoked on the garage's settings page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin_app.models import ApiKey, AuditLog, ConsoleUser, Passport
from tests.api.test_passport_api import NEW
from tests.conftest import DB_KIND

SECRET_RE = re.compile(r"gk_[A-Za-z0-9_-]{43}")


def make_key(browser, name="Autosoft") -> str:
    """Make a key on the screens and read its secret off the page that shows it once."""
    browser.fetch_csrf("/api-keys/new")
    response = browser.post("/api-keys/new", {"name": name})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "alleen deze ene keer" in page  # "shown only this once"
    return SECRET_RE.search(page).group(0)


def calling(app, secret):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def test_issue16_a_key_is_shown_once_and_acts_as_its_garage(app, world, login_as):
    """R-PP-6, R-SEC-1, R-SEC-2: GET and POST in its own garage, 404 for another's ids,
    the log names the key; the secret is on no other page."""
    jansen, devries = world.garage("Autobedrijf Jansen"), world.garage("Garage De Vries")
    browser = login_as("garage-jansen")
    secret = make_key(browser)
    settings = browser.get("/my-garage/mine", follow_redirects=True).get_data(as_text=True)
    assert "Autosoft" in settings and secret[:9] in settings and secret not in settings

    api = calling(app, secret)
    listed = api.get("/api/v1/passport/?q=(page_size:100)").get_json()
    assert listed["count"] == len(world.passports(garage_id=jansen.id)) > 0
    theirs = world.passports(garage_id=devries.id)[0].id
    assert api.get(f"/api/v1/passport/{theirs}").status_code == 404
    made = api.post("/api/v1/passport/", json=NEW)
    assert made.status_code == 201, made.get_json()
    passport = world.session.get(Passport, made.get_json()["id"])
    assert passport.garage_id == jansen.id
    entry = world.session.scalars(
        select(AuditLog).where(AuditLog.table_name == "passport", AuditLog.record_id == passport.id)
    ).first()
    assert entry.actor_name == "api-key:Autosoft"
    history = browser.get(f"/passports/show/{passport.id}").get_data(as_text=True)
    assert "API-sleutel Autosoft" in history
    key = world.session.scalars(select(ApiKey)).one()
    assert key.last_used_at is not None


def test_issue16_revoked_or_unknown_keys_get_401_and_the_key_outlives_its_maker(
    app, world, login_as
):
    """R-X-4: a revoked key answers 401 from its next request on, in the contract's shape;
    the colleague who made it leaving does not stop it."""
    from admin_app.services import accounts

    jansen = world.garage("Autobedrijf Jansen")
    kees = accounts.create_login(
        world.session,
        username="kees",
        email="kees@autobedrijf-jansen.nl",
        first_name="Kees",
        last_name="Vertrekt",
        role_name="Garage",
        password="demo",
        garage_id=jansen.id,
    )
    world.session.commit()
    secret = make_key(login_as("kees"))
    api = calling(app, secret)
    kees.active = False
    world.session.commit()
    assert api.get("/api/v1/passport/").status_code == 200
    world.session.delete(kees)
    world.session.commit()
    assert api.get("/api/v1/passport/").status_code == 200
    browser = login_as("garage-jansen")
    settings = browser.get("/my-garage/mine", follow_redirects=True)
    assert settings.status_code == 200 and "Autosoft" in settings.get_data(as_text=True)

    for wrong in ("gk_" + "A" * 43, secret[:-1]):
        refused = calling(app, wrong).get("/api/v1/passport/")
        assert refused.status_code == 401
        assert set(refused.get_json()) == {"message", "errors"}

    key_id = world.session.scalar(select(ApiKey.id))
    admin = login_as("admin")
    page = admin.get("/api-keys/list/").get_data(as_text=True)
    assert "Autosoft" in page and "Autobedrijf Jansen" in page
    confirm = admin.get(f"/api-keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "Autosoft" in confirm.get_data(as_text=True)
    assert admin.post(f"/api-keys/{key_id}/revoke").status_code == 302
    refused = api.get("/api/v1/passport/")
    assert refused.status_code == 401 and refused.get_json()["message"]


def test_issue16_a_key_opens_no_screen_and_its_login_cannot_log_in(app, world, login_as):
    """R-X-4: a key is for the API only; its service login has no password and is no
    colleague or user in the lists."""
    browser = login_as("garage-jansen")
    secret = make_key(browser)
    screen = calling(app, secret).get("/passports/list/")
    assert screen.status_code == 302 and "/login" in screen.headers["Location"]
    service = world.session.scalars(select(ApiKey)).one().service_user
    for password in ("", "demo", secret):
        login = app.test_client().post(
            "/api/v1/security/login",
            json={"username": service.username, "password": password, "provider": "db"},
        )
        assert login.status_code in (400, 401), login.get_json()
    colleagues = browser.get("/colleagues/list/").get_data(as_text=True)
    assert service.username not in colleagues
    users = login_as("admin").get("/users/list/?psize_UserDBModelView=100")
    assert service.username not in users.get_data(as_text=True)
    assert world.session.get(ConsoleUser, service.id).password is None


def test_issue16_attack_a_keys_login_never_gets_more_than_its_garage(
    app, world, login_as, api_client
):
    """R-SEC-1, R-X-4: a key acts as its garage with the Garage role, never more. FAB's
    user API listed the key's login to Admin and let it be given the Admin role or another
    garage; a key whose login was changed anyhow (user API, group, role API, database)
    stops working instead of acting with the changed rights."""
    from admin_app.services.accounts import find_role

    secret = make_key(login_as("garage-jansen"))
    api = calling(app, secret)
    service = world.session.scalars(select(ApiKey)).one().service_user
    admin = api_client("admin")
    listed = admin.get("/api/v1/security/users/?q=(page_size:100)").get_data(as_text=True)
    assert service.username not in listed
    assert admin.get(f"/api/v1/security/users/{service.id}").status_code == 404
    admin_role = find_role(world.session, "Admin")
    made_admin = admin.put(f"/api/v1/security/users/{service.id}", json={"roles": [admin_role.id]})
    assert made_admin.status_code == 404
    assert api.get("/api/v1/passport/").status_code == 200

    devries = world.garage("Garage De Vries")
    for change in (
        lambda user: user.roles.append(admin_role),
        lambda user: setattr(user, "garage_id", devries.id),
    ):
        world.session.refresh(service)
        original = (list(service.roles), service.garage_id)
        change(service)
        world.session.commit()
        assert api.get("/api/v1/security/users/").status_code == 401
        assert api.get("/api/v1/passport/").status_code == 401
        service.roles, service.garage_id = original
        world.session.commit()
        assert api.get("/api/v1/passport/").status_code == 200


@pytest.mark.skipif(DB_KIND != "sqlite", reason="permissions only; the matrix runs both")
@pytest.mark.parametrize("username", ["fleet-bakker", "eigenaar", "support"])
def test_issue16_only_garages_and_admin_reach_the_key_screens(world, login_as, username):
    """R-SEC-1: no key screens for FleetManager, Owner, Support (403 as for other screens)."""
    browser = login_as(username)
    for path in ("/api-keys/list/", "/api-keys/new"):
        assert browser.get(path).status_code in (403, 404), path


@pytest.mark.skipif(DB_KIND != "sqlite", reason="the limit lives in Flask-Limiter's storage")
def test_issue16_a_key_is_limited_per_minute(app, world, login_as):
    """R-X-4: 429 with Retry-After in the contract's shape (a small limit for the test)."""
    browser = login_as("garage-jansen")
    secret = make_key(browser)
    app.appbuilder.sm.limiter.reset()
    app.config["API_KEY_RATE_LIMIT"] = "3 per minute"
    try:
        api = calling(app, secret)
        answers = [api.get("/api/v1/passport/?q=(page_size:1)") for _ in range(4)]
    finally:
        app.config["API_KEY_RATE_LIMIT"] = "600 per minute"
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert set(answers[-1].get_json()) == {"message", "errors"}


def test_issue16_a_keys_idempotency_keys_are_its_own(app, world, login_as, api_client):
    """Issue 16: Idempotency-Key is scoped to the caller — a key and the colleague who made
    it are two callers; the key's retry gets its first answer."""
    secret = make_key(login_as("garage-jansen"))
    api, colleague = calling(app, secret), api_client("garage-jansen")
    headers = {"Idempotency-Key": "order-17"}
    first = api.post("/api/v1/passport/", json=NEW, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = api.post("/api/v1/passport/", json=NEW, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    other = {**NEW, "plate": "x-996-zz"}
    assert colleague.post("/api/v1/passport/", json=other, headers=headers).status_code == 201


def test_issue16_attack_a_garage_has_a_bounded_number_of_keys(world, acting_as):
    """R-X-4: the limit is 600 requests a minute per key; a garage making keys without end
    had as many minutes' worth as it liked (and a service login per key). At most
    MAX_KEYS unrevoked keys per garage; a revoked one makes room."""
    from admin_app.domain.errors import InvalidInput
    from admin_app.services import api_keys

    with acting_as("garage-jansen") as acting:
        session = world.session
        made = [
            api_keys.create_api_key(session, f"GMS {n}", actor=acting.actor, signing_key="k")[0]
            for n in range(api_keys.MAX_KEYS)
        ]
        with pytest.raises(InvalidInput) as refused:
            api_keys.create_api_key(session, "One more", actor=acting.actor, signing_key="k")
        assert "name" in refused.value.errors
        assert str(api_keys.MAX_KEYS) in str(refused.value.message)
        api_keys.revoke_api_key(session, made[0].id, actor=acting.actor)
        api_keys.create_api_key(session, "One more", actor=acting.actor, signing_key="k")


def test_issue16_attack_a_revoked_key_gets_no_stored_answer(app, world, login_as):
    """R-X-4, R-SEC-1: a replay is answered before the endpoint runs; a revoked key is
    refused (401) before that, by the app's own hook, so it replays nothing."""
    browser = login_as("garage-jansen")
    secret = make_key(browser)
    api = calling(app, secret)
    first = api.post("/api/v1/passport/", json=NEW, headers={"Idempotency-Key": "once"})
    assert first.status_code == 201
    key_id = world.session.scalar(select(ApiKey.id))
    browser.fetch_csrf(f"/api-keys/{key_id}/revoke")
    assert browser.post(f"/api-keys/{key_id}/revoke").status_code == 302
    again = api.post("/api/v1/passport/", json=NEW, headers={"Idempotency-Key": "once"})
    assert again.status_code == 401 and "Idempotent-Replayed" not in again.headers
