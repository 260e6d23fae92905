"""R-SEC-1 across every registered route, HTML and REST, for every role.

Each route is requested with real ids of another tenant's records: the answer is 404 (or
405), and nothing of that tenant — plate or e-mail — appears in any body. Support
changes nothing it is not granted, and deletes nothing. No body holds a password hash.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from admin_app.models import (
    AccessToken,
    AuditLog,
    ConsoleUser,
    Customer,
    FleetAccount,
    Garage,
    OutboxMessage,
    Passport,
)
from admin_app.services.plates import display_plate

SKIP_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "AuthDBView.logout",
    "AuthDBView.login",
    "LocaleView.index",
    "UtilView.back",
    "SecurityApi.login",
    "SecurityApi.refresh",
}
PASSWORD_HASH = re.compile(r"(scrypt|pbkdf2):[^\s\"']+\$")
MUTATING = {"POST", "PUT", "DELETE", "PATCH"}


def _models_by_endpoint(app):
    appbuilder = app.appbuilder
    models = {}
    for view in appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if datamodel is not None:
            models[view.__class__.__name__] = datamodel.obj
    return models


def _foreign(world, username):
    """Sample ids of records outside ``username``'s scope, and that tenant's plates/e-mails."""
    s = world.session
    jansen, devries = world.garage("Autobedrijf Jansen"), world.garage("Garage De Vries")
    bakker = world.user("fleet-bakker").fleet_account_id

    if username == "garage-devries":
        other_garage = jansen
    else:
        other_garage = devries
    passports = (
        s.scalars(select(Passport).where(Passport.garage_id == other_garage.id)).unique().all()
    )
    if username == "fleet-bakker":
        passports += (
            s.scalars(
                select(Passport).where(
                    Passport.garage_id == jansen.id,
                    (Passport.fleet_account_id.is_(None)) | (Passport.fleet_account_id != bakker),
                )
            )
            .unique()
            .all()
        )
    if username == "eigenaar":
        passports += (
            s.scalars(
                select(Passport)
                .join(Customer, Passport.owner_id == Customer.id)
                .where(Passport.garage_id == jansen.id, Customer.email != "eigenaar@example.nl")
            )
            .unique()
            .all()
        )
    customer_ids = {p.owner_id for p in passports} | {p.driver_id for p in passports if p.driver_id}
    if username == "fleet-bakker":
        mine = s.scalars(select(Passport).where(Passport.fleet_account_id == bakker)).unique().all()
        customer_ids -= {p.owner_id for p in mine} | {p.driver_id for p in mine}
    customers = s.scalars(select(Customer).where(Customer.id.in_(customer_ids))).unique().all()
    fleets = (
        s.scalars(select(FleetAccount).where(FleetAccount.garage_id == other_garage.id))
        .unique()
        .all()
    )
    if username == "eigenaar":
        fleets += (
            s.scalars(select(FleetAccount).where(FleetAccount.garage_id == jansen.id))
            .unique()
            .all()
        )
    other_users = [
        world.user("garage-devries" if username != "garage-devries" else "garage-jansen"),
        world.user("admin"),
    ]
    ids = {
        Passport: [passports[0].id, passports[-1].id],
        Customer: [customers[0].id, customers[-1].id],
        FleetAccount: [fleets[0].id],
        Garage: [other_garage.id],
        ConsoleUser: [u.id for u in other_users],
        AuditLog: [s.scalar(select(AuditLog.id).where(AuditLog.garage_id == other_garage.id))],
        OutboxMessage: [
            s.scalar(select(OutboxMessage.id).where(OutboxMessage.garage_id == other_garage.id))
        ],
    }
    secrets = set()
    for p in passports:
        secrets |= {display_plate(p.plate), p.plate}
    for c in customers:
        if c.email not in {"eigenaar@example.nl"}:
            secrets.add(c.email)
    return ids, secrets


def _urls(app, rule, ids_for_model, model):
    """Concrete URLs for a rule, with the foreign ids filled in."""
    from werkzeug.routing import BuildError

    args_options = []
    for arg in sorted(rule.arguments):
        if arg in ("pk", "role_id"):
            values = ids_for_model.get(model, [987654])
        elif arg == "name":
            view = next(
                v
                for v in app.appbuilder.baseviews
                if v.__class__.__name__ == rule.endpoint.split(".")[0]
            )
            values = list(getattr(view, "actions", {}) or {"x": None}) or ["x"]
        elif arg == "token":
            values = ["a" * 43]
        elif arg == "version":
            values = ["v1"]
        else:
            values = ["x"]
        args_options.append([(arg, v) for v in values])
    combos = [[]]
    for options in args_options:
        combos = [c + [o] for c in combos for o in options]
    urls = []
    for combo in combos:
        try:
            with app.test_request_context():
                from flask import url_for

                urls.append(url_for(rule.endpoint, **dict(combo)))
        except BuildError:
            continue
    return urls


def _request(client, url, method, *, api_auth, csrf_token):
    if url.startswith("/api/"):
        return client.open(url, method=method, json={}, headers=api_auth)
    data = {"csrf_token": csrf_token, "rowid": "1", "action": "x"} if method in MUTATING else None
    return client.open(url, method=method, data=data)


def _sweep(app, world, username, api_client, login_as):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # list every 500, don't stop at the first
    browser = login_as(username)
    api = api_client(username)
    api_auth = {"Authorization": api.environ_base["HTTP_AUTHORIZATION"]}
    ids, secrets = _foreign(world, username)
    models = _models_by_endpoint(app)
    problems = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        model = models.get(rule.endpoint.split(".")[0])
        for url in _urls(app, rule, ids, model):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = _request(
                    browser.client, url, method, api_auth=api_auth, csrf_token=browser.csrf_token
                )
                body = response.get_data(as_text=True)
                where = f"{username} {method} {url} → {response.status_code}"
                if response.status_code >= 500:
                    problems.append(f"{where}: server error")
                if (
                    "pk" in rule.arguments
                    and model in ids
                    and response.status_code not in (404, 405)
                ):
                    problems.append(f"{where}: expected 404 for another tenant's record")
                leaked = [s for s in secrets if s in body]
                if leaked:
                    problems.append(f"{where}: shows another tenant's {leaked[:3]}")
                if PASSWORD_HASH.search(body):
                    problems.append(f"{where}: contains a password hash")
    return problems


@pytest.mark.parametrize(
    "username", ["garage-jansen", "garage-devries", "fleet-bakker", "eigenaar"]
)
def test_r_sec_1_every_route_gives_404_for_another_tenants_records(
    app, world, api_client, login_as, username
):
    problems = _sweep(app, world, username, api_client, login_as)
    assert not problems, "\n".join(problems)


def _fingerprint(session):
    session.expire_all()
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (
            Passport,
            Customer,
            FleetAccount,
            Garage,
            ConsoleUser,
            AuditLog,
            OutboxMessage,
            AccessToken,
        )
    }


OWN_ACCOUNT = ("/resetmypassword/", "/userinfoeditview/", "/forgot-password", "/reset-password/")


def test_r_sec_1_support_changes_and_deletes_nothing_it_is_not_granted(
    app, world, api_client, login_as
):
    """Support may read every garage; this sweep sends every write it could try."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = login_as("support")
    api = api_client("support")
    api_auth = {"Authorization": api.environ_base["HTTP_AUTHORIZATION"]}
    s = world.session
    real_ids = {
        model: [s.scalar(select(model.id).order_by(model.id))]
        for model in (
            Passport,
            Customer,
            FleetAccount,
            Garage,
            ConsoleUser,
            AuditLog,
            OutboxMessage,
        )
    }
    models = _models_by_endpoint(app)
    before = _fingerprint(s)
    problems = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or rule.rule.startswith(OWN_ACCOUNT):
            continue
        mutating = (rule.methods & MUTATING) or "/delete/" in rule.rule or "/action/" in rule.rule
        if not mutating:
            continue
        model = models.get(rule.endpoint.split(".")[0])
        for url in _urls(app, rule, real_ids, model):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = _request(
                    browser.client, url, method, api_auth=api_auth, csrf_token=browser.csrf_token
                )
                if response.status_code >= 500:
                    problems.append(f"support {method} {url}: server error")
                if method == "DELETE" and response.status_code < 400:
                    problems.append(f"support {method} {url}: delete accepted")
    assert not problems, "\n".join(problems)
    assert _fingerprint(s) == before


@pytest.mark.parametrize(
    "username", ["admin", "garage-jansen", "fleet-bakker", "support", "eigenaar"]
)
def test_no_get_changes_data(app, world, login_as, api_client, username):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = login_as(username)
    api = api_client(username)
    api_auth = {"Authorization": api.environ_base["HTTP_AUTHORIZATION"]}
    s = world.session
    own_ids = {
        model: [s.scalar(select(model.id).order_by(model.id.desc()))]
        for model in (
            Passport,
            Customer,
            FleetAccount,
            Garage,
            ConsoleUser,
            AuditLog,
            OutboxMessage,
        )
    }
    models = _models_by_endpoint(app)
    before = _fingerprint(s)
    audit_before = s.scalar(select(func.max(AuditLog.id)))
    errors = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or "GET" not in rule.methods:
            continue
        model = models.get(rule.endpoint.split(".")[0])
        for url in _urls(app, rule, own_ids, model):
            response = _request(
                browser.client, url, "GET", api_auth=api_auth, csrf_token=browser.csrf_token
            )
            if response.status_code >= 500:
                errors.append(f"{username} GET {url} → {response.status_code}")
    assert not errors, "\n".join(errors)
    assert _fingerprint(s) == before
    assert s.scalar(select(func.max(AuditLog.id))) == audit_before
