"""R-SEC-1 across every registered route, HTML and REST, for every role.

Each route is requested with real ids of another tenant's records: the answer is 404 (or
405), and nothing of that tenant — plate or e-mail — appears in any body. Support
changes nothing it is not granted, and deletes nothing. No body holds a password hash.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from admin_app.domain.plates import display_plate
from admin_app.models import (
    AccessToken,
    ApiKey,
    AuditLog,
    ConsoleUser,
    ContactProposal,
    Customer,
    DataExport,
    FleetAccount,
    Garage,
    InspectionForm,
    Invoice,
    OutboxMessage,
    Passport,
    Task,
    TaskRow,
    WebhookEndpoint,
)
from admin_app.services import api_keys
from admin_app.services.audit import Actor

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
    # Screens without a datamodel whose <pk> is a record of this model.
    models["InspectionView"] = InspectionForm
    models["WebhookView"] = WebhookEndpoint  # issue 16: an endpoint, its log, its actions
    # Issue 19: a data export is the requester's alone; the export of a customer names him.
    models["DataExportView"] = DataExport
    models["DataExportApi"] = DataExport
    models["CustomerExportApi"] = Customer
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
    # Another garage's API key (issue 16): its revoke page answers 404 too.
    maker = world.user("garage-devries" if other_garage is devries else "garage-jansen")
    other_key, _ = api_keys.create_api_key(
        s, "Matrix", actor=Actor.of_user(maker), signing_key="matrix"
    )
    s.commit()
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
        InspectionForm: [
            s.scalar(select(InspectionForm.id).where(InspectionForm.garage_id == other_garage.id))
        ],
        ContactProposal: [
            s.scalar(select(ContactProposal.id).where(ContactProposal.garage_id == other_garage.id))
        ],
        Invoice: [s.scalar(select(Invoice.id).where(Invoice.garage_id == other_garage.id))],
        # The "Taken" pages and the undo (issue 15): another garage's bulk task.
        Task: [_bulk_task(s, other_garage, passports[0])],
        ApiKey: [other_key.id],
        # Issue 16: another garage's webhook endpoint (its log, secret, switches).
        WebhookEndpoint: [_webhook_endpoint(s, other_garage)],
        # Issue 19: another login's data export (of a customer of the other garage).
        DataExport: [_data_export(s, maker, customers[0])],
    }
    secrets = set()
    for p in passports:
        secrets |= {display_plate(p.plate), p.plate}
    for c in customers:
        if c.email not in {"eigenaar@example.nl"}:
            secrets.add(c.email)
    return ids, secrets


def _bulk_task(session, garage, passport) -> int:
    """A finished archive task of ``garage`` over ``passport`` (its row shows the plate)."""
    task = Task(
        kind="archive",
        garage_id=garage.id,
        created_by_id=0,
        created_by="x",
        state="done",
        total_rows=1,
        done_rows=1,
        selection={"count": 1},
    )
    session.add(task)
    session.flush()
    session.add(
        TaskRow(
            task_id=task.id,
            passport_id=passport.id,
            plate=display_plate(passport.plate),
            outcome="done",
            previous_state=passport.state,
        )
    )
    session.commit()
    return task.id


def _data_export(session, maker, customer) -> int:
    """A ready data export another login asked for: only that login may see or fetch it."""
    from admin_app.models.base import utcnow

    export = DataExport(
        requested_by_id=maker.id,
        customer_id=customer.id,
        garage_id=customer.garage_id,
        scope="garage",
        state="ready",
        progress=100,
        file_path="matrix.zip",
        expires_at=utcnow() + dt.timedelta(days=7),
    )
    session.add(export)
    session.commit()
    return export.id


def _webhook_endpoint(session, garage) -> int:
    endpoint = WebhookEndpoint(
        garage_id=garage.id,
        url="https://gms.example/hooks",
        events=["passport.sent"],
        secret_encrypted="not-a-secret",
        enabled=True,
    )
    session.add(endpoint)
    session.commit()
    return endpoint.id


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
        elif arg == "fmt":
            values = ["csv", "xlsx"]  # a list's exports (issue 15)
        elif arg in ("instance_number", "per_page", "page"):
            # rq-dashboard under /admin/rq (issue 17): its one Redis, its first page; its
            # several rules per endpoint defeat the converter check below.
            values = [0] if arg == "instance_number" else [1]
        elif type(rule._converters.get(arg)).__name__ == "IntegerConverter":
            values = [1]
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
        response = client.open(url, method=method, json={}, headers=api_auth)
    else:
        data = (
            {"csrf_token": csrf_token, "rowid": "1", "action": "x"} if method in MUTATING else None
        )
        response = client.open(url, method=method, data=data)
    # Read and close it, as a WSGI server does: a streamed export (issue 15) keeps its
    # request's context until then, and the next request would run inside it.
    response.get_data()
    response.close()
    return response


class Walker:
    """Logs ``username`` in (form and JWT) and requests routes with the given ids."""

    def __init__(self, app, username, api_client, login_as):
        app.config["PROPAGATE_EXCEPTIONS"] = False  # list every 500, don't stop at one
        self.app = app
        self.browser = login_as(username)
        api = api_client(username)
        self.api_auth = {"Authorization": api.environ_base["HTTP_AUTHORIZATION"]}
        self.models = _models_by_endpoint(app)

    def walk(self, ids, *, rules=lambda rule: True, methods=None):
        """Yield (rule, model, method, url, response) for every matching route."""
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in SKIP_ENDPOINTS or not rules(rule):
                continue
            model = self.models.get(rule.endpoint.split(".")[0])
            wanted = (methods or rule.methods) & rule.methods - {"HEAD", "OPTIONS"}
            for url in _urls(self.app, rule, ids, model):
                for method in sorted(wanted):
                    response = _request(
                        self.browser.client,
                        url,
                        method,
                        api_auth=self.api_auth,
                        csrf_token=self.browser.csrf_token,
                    )
                    yield rule, model, method, url, response


MODELS_WITH_IDS = (Passport, Customer, FleetAccount, Garage, ConsoleUser, AuditLog, OutboxMessage)


def _some_ids(session, *, newest=False):
    def order(model):
        return model.id.desc() if newest else model.id

    return {
        model: [session.scalar(select(model.id).order_by(order(model)))]
        for model in MODELS_WITH_IDS
    }


def _fingerprint(session):
    session.expire_all()
    counts = {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (*MODELS_WITH_IDS, AccessToken)
    }
    # An export only reads, but is logged as it is read (issue 15): not a change.
    counts["AuditLog"] = session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.table_name != "export")
    )
    return counts


@pytest.mark.parametrize(
    "username", ["garage-jansen", "garage-devries", "fleet-bakker", "eigenaar"]
)
def test_r_sec_1_every_route_gives_404_for_another_tenants_records(
    app, world, api_client, login_as, username
):
    ids, secrets = _foreign(world, username)
    problems = []
    walker = Walker(app, username, api_client, login_as)
    for rule, model, method, url, response in walker.walk(ids):
        body = response.get_data().decode("utf-8", "replace")  # exports are binary
        where = f"{username} {method} {url} → {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: server error")
        if "pk" in rule.arguments and model in ids and response.status_code not in (404, 405):
            problems.append(f"{where}: expected 404 for another tenant's record")
        leaked = [s for s in secrets if s in body]
        if leaked:
            problems.append(f"{where}: shows another tenant's {leaked[:3]}")
        if PASSWORD_HASH.search(body):
            problems.append(f"{where}: contains a password hash")
    assert not problems, "\n".join(problems)


OWN_ACCOUNT = ("/resetmypassword/", "/userinfoeditview/", "/forgot-password", "/reset-password/")


# What SPEC's roles table grants Support: resends, e-mail corrections, moving a passport,
# cancelling a pending transfer, erasing a customer (issue 19).
SUPPORT_GRANTS = (
    "PassportView.cancel_transfer",
    "TransferApi.cancel",
    "PassportView.send",
    "PassportApi.send",
    "PassportView.email",
    "PassportView.move",
    "PassportApi.move",
    "CustomerApi.put",
    # Issue 19: Support exports a customer's data (a read that is logged).
    "DataExportView.customer",
    "CustomerExportApi.export",
    "CustomerApi.erase",  # issue 19: erase a customer (R-DR-2)
    "CustomerView.erase",
)


def _could_write(rule) -> bool:
    if rule.rule.startswith(OWN_ACCOUNT) or rule.endpoint in SUPPORT_GRANTS:
        return False
    return bool(rule.methods & MUTATING) or "/delete/" in rule.rule or "/action/" in rule.rule


def test_r_sec_1_support_changes_and_deletes_nothing_it_is_not_granted(
    app, world, api_client, login_as
):
    """Support may read every garage; this sweep sends every write it could try."""
    before = _fingerprint(world.session)
    problems = []
    walker = Walker(app, "support", api_client, login_as)
    for _, _, method, url, response in walker.walk(_some_ids(world.session), rules=_could_write):
        if response.status_code >= 500:
            problems.append(f"support {method} {url}: server error")
        if method == "DELETE" and response.status_code < 400:
            problems.append(f"support {method} {url}: delete accepted")
    assert not problems, "\n".join(problems)
    assert _fingerprint(world.session) == before


@pytest.mark.parametrize(
    "username", ["admin", "garage-jansen", "fleet-bakker", "support", "eigenaar"]
)
def test_no_get_changes_data(app, world, login_as, api_client, username):
    before = _fingerprint(world.session)
    audit_before = world.session.scalar(select(func.max(AuditLog.id)))
    walker = Walker(app, username, api_client, login_as)
    ids = _some_ids(world.session, newest=True)
    errors = [
        f"{username} GET {url} → {response.status_code}"
        for _, _, _, url, response in walker.walk(ids, methods={"GET"})
        if response.status_code >= 500
    ]
    assert not errors, "\n".join(errors)
    assert _fingerprint(world.session) == before
    # An export only reads, but is logged as it is read (issue 15): the one entry a GET
    # may write.
    assert (
        world.session.scalar(select(func.max(AuditLog.id)).where(AuditLog.table_name != "export"))
        == audit_before
    )


NAV_LINK = re.compile(r'<a[^>]*href="([^"#][^"]*)"')
# Links in the navbar that are no menu entries: the home page, language, profile, logout.
NOT_MENU = re.compile(r"^/$|^/lang/|^/users/userinfo/|^/logout/|^https?://")
# Menu entries of one tenant's own pages (and pages that act for one garage): Admin, who
# belongs to no garage, fleet or car, got a 404 or every tenant's rows as if his own.
TENANT_OWN = ("/my-garage/", "/my-vehicles/", "/my-fleet/", "/passports/new", "/colleagues/")


def _menu_links(browser) -> list[str]:
    page = browser.get("/", follow_redirects=True).get_data(as_text=True)
    navbar = page[page.index('class="navbar') : page.index("</header>")]
    links = {href.replace("&amp;", "&") for href in NAV_LINK.findall(navbar)}
    return sorted(link for link in links if not NOT_MENU.search(link))


def _unusable(page: str) -> str | None:
    if "alert-danger" in page:
        return "shows an error"
    if "<form" not in page and "<table" not in page and "panel" not in page:
        return "shows neither a form, a table nor a panel"
    return None


@pytest.mark.parametrize(
    "username", ["admin", "garage-jansen", "fleet-bakker", "support", "eigenaar"]
)
def test_issue14_every_menu_entry_of_every_role_opens_a_usable_page(world, login_as, username):
    """Issue 14: each menu link of the role answers 200 (after its redirects) with a page
    the role can use — no 404 ("Mijn garage" for Admin), no 403, no error flash."""
    browser = login_as(username)
    links = _menu_links(browser)
    assert links, f"{username} has no menu"
    problems = []
    for link in links:
        response = browser.get(link, follow_redirects=True)
        page = response.get_data(as_text=True)
        if response.status_code != 200:
            problems.append(f"{username} {link} → {response.status_code}")
        elif reason := _unusable(page):
            problems.append(f"{username} {link} {reason}")
    assert not problems, "\n".join(problems)


def test_issue14_admin_menu_has_no_tenant_own_entries(world, login_as):
    """Issue 14: no "Mijn garage", "Mijn voertuigen", "Mijn AutoPaspoorten" (his fleet)
    or "Nieuw AutoPaspoort" (only a garage creates passports) in Admin's menu."""
    links = _menu_links(login_as("admin"))
    assert not [link for link in links if link.startswith(TENANT_OWN)], links


@pytest.mark.parametrize(
    "username", ["admin", "garage-jansen", "support", "fleet-bakker", "eigenaar"]
)
def test_issue18_the_vehicle_register_is_admins_only(app, world, api_client, login_as, username):
    """Issue 18: the register's page, an import's page and the upload: Admin's only; any
    other role is turned away (and changes nothing), Admin never gets a server error."""
    from admin_app.models import RegisterImport

    before = world.session.scalar(select(func.count()).select_from(RegisterImport))
    walker = Walker(app, username, api_client, login_as)
    seen = []
    for rule, _, method, url, response in walker.walk(
        {}, rules=lambda rule: rule.rule.startswith("/register")
    ):
        seen.append(rule.endpoint)
        assert response.status_code < 500, f"{username} {method} {url}"
        if username != "admin":
            assert response.status_code in (302, 403, 404), f"{username} {method} {url}"
    assert {"RegisterView.index", "RegisterView.show", "RegisterView.upload"} <= set(seen)
    world.session.expire_all()
    assert world.session.scalar(select(func.count()).select_from(RegisterImport)) == before
