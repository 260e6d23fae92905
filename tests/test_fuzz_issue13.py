"""Issue 13 (R-X-4: "never a 500 for bad input"): every write endpoint and every list
parameter, fed the input a fuzzer found 500s with, answers 2xx, 3xx or 4xx.

The endpoints come from the app's url_map; the fields sent to each from its input schema
(the API's `input_schemas`) or the console's form classes and the query arguments its
handlers read. Examples are derandomized: the same requests on every run, and each class of
input is drawn for each endpoint: wrong types, NUL, 100,000 characters, deep JSON,
huge or odd numbers, ids that are not numbers.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from decimal import Decimal

import prison
import pytest
from flask import got_request_exception
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

# Per endpoint. FUZZ_EXAMPLES=200 fuzzes deeper by hand; the suite stays within 90 s.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
LONG = "x" * 100_000
DEEP_LIST = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000

# What a JSON client may put where text, a number, an id, a date or a list is expected.
BAD_JSON_VALUES = [
    123,
    -1,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    1.5,
    10**30,
    True,
    None,
    [],
    ["a", 1],
    {},
    {"a": {"b": 1}},
    "",
    "\x00",
    "a\x00b",
    LONG,
    "abc",
    "1e9",
    "-1",
    "12.345",
    "NaN",
    "Infinity",
    "2026-02-30",
    [[[[[[[[[[1]]]]]]]]]],
]
# What a form field or query argument may hold (always text on the wire).
BAD_TEXT_VALUES = [
    "",
    "\x00",
    "a\x00b",
    LONG,
    "abc",
    "-1",
    "0",
    "1e9",
    "1e308",
    "NaN",
    "Infinity",
    "99999999999999999999999999",
    "12.345",
    "2026-02-30",
    "<script>",
    "%",
    "_",
]
# Plausible values, so that one bad field is not hidden behind another missing one.
PLAUSIBLE = {
    "plate": "99-XYZ-9",
    "email": "fuzz@example.nl",
    "email_again": "fuzz@example.nl",
    "last_name": "Fuzz",
    "first_name": "F.",
    "name": "Fuzz BV",
    "kind": "owner",
    "decision": "yes",
    "inspection_date": "2026-12-01",
    "apk_expiry": "2027-01-31",
    "invoice_date": "2026-11-01",
    "done_on": "2026-11-01",
    "wanted_date": "2026-12-15",
    "amount": "120,50",
    "description": "Remblokken",
    "inspector": "Piet",
    "username": "fuzz",
    "password": "demo",
    "provider": "db",
}

SKIP = {"static", "appbuilder.static", "AuthDBView.logout", "UtilView.back"}


# --- discovering endpoints and their fields ----------------------------------------------


def _view(app, endpoint: str):
    name = endpoint.split(".")[0]
    return next((v for v in app.appbuilder.baseviews if type(v).__name__ == name), None)


def _api_fields(view, method_name: str) -> dict[str, list]:
    """Each field of the endpoint's input schema with the bad values to send it: for a
    nested object or a list of them, the bad values go one level down too. Without a
    schema (before issue 13): every column the API shows."""
    from marshmallow import fields as mf

    schema = (getattr(view, "input_schemas", None) or {}).get(method_name)
    if schema is None:
        names = set(getattr(view, "list_columns", None) or []) | set(PLAUSIBLE)
        return {name: BAD_JSON_VALUES for name in sorted(names)}
    found = {}
    for name, field in sorted(schema().fields.items()):
        inner = field.inner if isinstance(field, mf.List) else field
        values = list(BAD_JSON_VALUES)
        if isinstance(inner, mf.Nested):
            members = sorted(inner.schema.fields)
            nested = [{m: bad for m in members} for bad in BAD_JSON_VALUES]
            values += [[n] for n in nested] if isinstance(field, mf.List) else nested
        found[name] = values
    return found


def _fields_of(form) -> set[str]:
    names: set[str] = set()
    for base in form.__mro__:
        names |= {n for n, v in vars(base).items() if hasattr(v, "field_class")}
    return names - {"csrf_token"}


def _handler_source(view, endpoint: str) -> tuple[str, dict]:
    """The source of the endpoint's handler and of the module functions and view methods
    it calls (one level down): where its form classes and request.form names are."""
    handler = getattr(type(view), endpoint.split(".")[-1], None)
    module = inspect.getmodule(type(view))
    if handler is None or not module.__name__.startswith("admin_app"):
        return "", {}
    source = inspect.getsource(handler)
    names = vars(module)
    for called in set(re.findall(r"(?:self\.)?(\w+)\(", source)):
        target = getattr(type(view), called, None) or names.get(called)
        if inspect.isfunction(target) and target.__module__.startswith("admin_app"):
            source += inspect.getsource(target)
    return source, names


def _form_fields(view, endpoint: str) -> list[str]:
    """The fields an HTML POST endpoint reads: its form classes' fields, the names its
    handler reads from request.form, or FAB's add/edit columns."""
    from flask_wtf import FlaskForm

    action = endpoint.split(".")[-1]
    if action in ("add", "edit"):
        return sorted(getattr(view, f"{action}_columns", None) or [])
    if action in ("action", "action_post"):
        return ["rowid", "action"]
    source, names = _handler_source(view, endpoint)
    fields: set[str] = set()
    for name in set(re.findall(r"(\w+Form)\(", source)):
        form = names.get(name) or getattr(view, name, None)
        if isinstance(form, type) and issubclass(form, FlaskForm):
            fields |= _fields_of(form)
    fields |= set(re.findall(r"request\.form\.get(?:list)?\(\s*f?\"([\w-]+)", source))
    fields |= set(re.findall(r"posted\.get(?:list)?\(\s*f?\"([\w-]+)", source))
    # f"status-{checkpoint_id}" and the like: a name with an id after its dash.
    return sorted(f"{f}1" if f.endswith("-") else f for f in fields) or ["x"]


def _handler_args(view, kind: str) -> set[str]:
    """The request.args / request.form names a console view's own code reads."""
    if not type(view).__module__.startswith("admin_app"):
        return set()
    source = inspect.getsource(inspect.getmodule(type(view)))
    found = set(re.findall(rf"request\.{kind}\.get(?:list)?\(\s*[f]?\"([\w-]+)", source))
    found |= set(re.findall(r"posted\.get(?:list)?\(\s*[f]?\"([\w-]+)", source))
    return found


def _ids(world):
    """One id per model inside garage-jansen's scope (the fuzzer is a Garage user)."""
    from admin_app.models import (
        BatchJob,
        ContactProposal,
        Customer,
        FleetAccount,
        Garage,
        InspectionForm,
        Invoice,
        Passport,
        Transfer,
    )

    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    ids = {}
    for model in (
        Passport,
        Customer,
        FleetAccount,
        InspectionForm,
        ContactProposal,
        Invoice,
        Transfer,
        BatchJob,
    ):
        column = getattr(model, "garage_id", None)
        query = select(model.id).order_by(model.id)
        if column is not None:
            query = query.where(column == jansen.id)
        elif model is Transfer:
            query = query.join(Passport, Passport.id == Transfer.passport_id).where(
                Passport.garage_id == jansen.id
            )
        ids[model] = s.scalar(query.limit(1)) or 987654
    ids[Garage] = jansen.id
    return ids


def _url(app, rule, world_ids, view, pk_value=None):
    from flask import url_for

    args = {}
    model = getattr(getattr(view, "datamodel", None), "obj", None)
    if type(view).__name__ == "InspectionView":
        from admin_app.models import InspectionForm

        model = InspectionForm
    for arg in rule.arguments:
        if arg == "pk":
            args[arg] = pk_value if pk_value is not None else world_ids.get(model, 987654)
        elif arg == "name":
            args[arg] = next(iter(getattr(view, "actions", None) or {"x": 0}))
        elif arg in ("token",):
            args[arg] = "a" * 43
        elif arg == "kind":
            args[arg] = "csv"
        elif arg == "number":
            args[arg] = 1
        else:
            args[arg] = "1"
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


class Failures:
    """5xx answers with the exception that caused each (PROPAGATE_EXCEPTIONS is off)."""

    def __init__(self, app):
        self.app, self.found, self._last = app, [], None
        app.config["PROPAGATE_EXCEPTIONS"] = False
        got_request_exception.connect(self._note, app)

    def _note(self, sender, exception, **extra):
        self._last = exception

    def check(self, what: str, response):
        if response.status_code >= 500:
            self.found.append(f"{response.status_code} {what}: {self._last!r}"[:400])
        self._last = None

    def close(self):
        got_request_exception.disconnect(self._note, self.app)
        assert not self.found, f"{len(self.found)} answers were 5xx:\n" + "\n".join(self.found)


def _run(strategy, send, share: float = 1.0):
    """Hypothesis over ``strategy`` for one endpoint; no shrinking (every 5xx is listed).
    ``share`` of EXAMPLES: list pages render whole screens, so they get fewer."""

    @settings(
        derandomize=True,
        max_examples=max(1, round(EXAMPLES * share)),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case):
        send(case)

    run()


def _json_bodies(fields: dict[str, list]):
    """A JSON object with some of ``fields`` plausible and at least one bad, or raw text
    that is not an object at all (deep, NUL, huge)."""
    names = sorted(fields) or ["x"]
    bad_field = st.sampled_from(names).flatmap(
        lambda f: st.tuples(st.just(f), st.sampled_from(fields.get(f, BAD_JSON_VALUES)))
    )
    objects = st.tuples(bad_field, st.lists(bad_field, max_size=4)).map(
        lambda t: json.dumps(
            {**{f: PLAUSIBLE.get(f, "1") for f in names}, **dict(t[1]), t[0][0]: t[0][1]}
        )
    )
    nested = st.sampled_from(names).map(lambda f: '{"%s": %s}' % (f, DEEP_LIST))  # noqa: UP031
    raw = st.sampled_from(
        [DEEP_LIST, DEEP_OBJECT, '"\\u0000"', "[1, 2]", "123", "null", '{"a": 1e999}', "{"]
    )
    return st.one_of(objects, objects, objects, nested, raw)


def _contract_shape(response) -> bool:
    """R-X-4: a refusal is {"message": text, "errors": {field: [text]}}."""
    body = response.get_json(silent=True)
    return (
        isinstance(body, dict)
        and isinstance(body.get("message"), str)
        and isinstance(body.get("errors"), dict)
        and all(isinstance(v, list) for v in body["errors"].values())
    )


# --- the tests ---------------------------------------------------------------------------

WRITE = {"POST", "PUT", "DELETE", "PATCH"}


def test_issue13_no_5xx_for_bad_input_api(app, world, api_client):
    """R-X-4: every API POST/PUT/DELETE, as a Garage user, with bad bodies and bad ids."""
    failures = Failures(app)
    ids = _ids(world)
    api = api_client("garage-jansen")
    anonymous = api_client(None)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/") or rule.endpoint in SKIP:
            continue
        view = _view(app, rule.endpoint)
        method_name = rule.endpoint.split(".")[-1]
        client = anonymous if rule.rule.endswith("/security/login") else api
        for method in sorted((rule.methods or set()) & WRITE):
            url = _url(app, rule, ids, view)
            fields = _api_fields(view, method_name)

            def send(body, url=url, method=method, client=client):
                response = client.open(
                    url, method=method, data=body, content_type="application/json"
                )
                failures.check(f"{method} {url} {body[:80]!r}", response)
                if 400 <= response.status_code < 500 and not _contract_shape(response):
                    failures.found.append(f"not the contract's shape: {method} {url}")

            _run(_json_bodies(fields), send)
            if "<int:pk>" in rule.rule:
                # A path id that is not a number never reaches the handler.
                for bad in ("abc", "-1", "1e9", "%00", LONG[:5000]):
                    # An API without a datamodel (issue 19's data export) names its own records.
                    model = getattr(getattr(view, "datamodel", None), "obj", None)
                    bad_url = url.replace(str(ids.get(model)), bad)
                    failures.check(f"{method} {bad_url[:80]}", client.open(bad_url, method=method))
    failures.close()


def test_issue13_no_5xx_for_bad_input_screens(app, world, login_as):
    """R-X-4 on the screens: every HTML POST form, as a Garage user with a CSRF token."""
    failures = Failures(app)
    ids = _ids(world)
    browser = login_as("garage-jansen")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/") or rule.endpoint in SKIP:
            continue
        if "POST" not in (rule.methods or set()):
            continue
        view = _view(app, rule.endpoint)
        url = _url(app, rule, ids, view)
        fields = _form_fields(view, rule.endpoint)
        values = st.sampled_from(BAD_TEXT_VALUES)

        def send(case, url=url, fields=fields):
            data = {f: PLAUSIBLE.get(f, "1") for f in fields}
            data.update(case[2])
            data[case[0]] = case[1]
            data["csrf_token"] = browser.csrf_token
            response = browser.client.post(url, data=data)
            shown = {k: v[:40] for k, v in data.items() if k in case[2] or k == case[0]}
            failures.check(f"POST {url} {shown}", response)

        _run(
            st.tuples(
                st.sampled_from(fields),
                values,
                st.dictionaries(st.sampled_from(fields), values, max_size=4),
            ),
            send,
        )
    failures.close()


def test_issue13_no_5xx_for_bad_list_parameters(app, world, login_as, api_client):
    """Screen lists (page, psize, order, filters, the arguments handlers read) and API
    lists (rison q) with text, negative, huge and unknown values."""
    failures = Failures(app)
    ids = _ids(world)
    browser = login_as("garage-jansen")
    api = api_client("garage-jansen")
    values = st.sampled_from(BAD_TEXT_VALUES)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP or "GET" not in (rule.methods or set()):
            continue
        view = _view(app, rule.endpoint)
        if view is None:
            continue
        name = type(view).__name__
        url = _url(app, rule, ids, view)
        if rule.rule.startswith("/api/"):
            if not rule.endpoint.endswith(".get_list"):
                continue
            keys = st.sampled_from(["page", "page_size", "order_column", "order_direction"])
            rison_values = st.one_of(
                st.sampled_from(BAD_JSON_VALUES[:14]),
                values,
            )
            filters = st.tuples(
                st.sampled_from(list(getattr(view, "search_columns", None) or ["id"])),
                st.sampled_from(["eq", "sw", "ct", "rel_o_m", "gt", "xx"]),
                rison_values,
            ).map(lambda t: {"filters": [{"col": t[0], "opr": t[1], "value": t[2]}]})

            def send_api(query, url=url):
                try:
                    text = prison.dumps(query)
                except Exception:  # rison cannot write NaN: send it as typed
                    text = str(query)
                response = api.get(url, query_string={"q": text})
                failures.check(f"GET {url} q={text[:80]!r}", response)

            _run(
                st.one_of(st.dictionaries(keys, rison_values, max_size=3), filters),
                send_api,
                share=0.6,
            )
            continue
        list_args = (
            [
                f"page_{name}",
                f"psize_{name}",
                f"_oc_{name}",
                f"_od_{name}",
                f"_flt_0_{next(iter(view._filters.get_search_filters()), 'x')}",
                f"_flt_9_{next(iter(view._filters.get_search_filters()), 'x')}",
            ]
            if rule.endpoint.endswith(".list") and hasattr(view, "_filters")
            else []
        )
        names = sorted(set(list_args) | _handler_args(view, "args"))
        if not names:
            continue

        def send_screen(case, url=url):
            query = {**case[2], case[0]: case[1]}
            if case[0].startswith("_oc_"):
                query["_od_" + case[0][4:]] = "asc"
            response = browser.get(url, query_string=query)
            shown = {k: v[:40] for k, v in query.items()}
            failures.check(f"GET {url} {shown}", response)
            if response.status_code < 400:
                cookie = response.headers.get("Set-Cookie", "")
                assert len(cookie) < 4096, f"{url} sets a cookie of {len(cookie)} bytes"

        _run(
            st.tuples(
                st.sampled_from(names),
                st.one_of(values, st.sampled_from(["-5", "100000", "1000000000", "zzz_oc"])),
                st.dictionaries(st.sampled_from(names), values, max_size=2),
            ),
            send_screen,
            share=0.6,
        )
    failures.close()


def test_issue13_no_5xx_for_bad_input_anonymous(app, world, browser):
    """The public forms and the API login, not logged in: deep JSON, NUL, 100k text."""
    failures = Failures(app)
    visitor = browser()
    visitor.fetch_csrf("/login/")
    for url in ("/login/", "/forgot-password"):
        for value in BAD_TEXT_VALUES:
            data = {
                "username": value,
                "password": value,
                "identifier": value,
                "csrf_token": visitor.csrf_token,
            }
            failures.check(f"POST {url} {value[:20]!r}", visitor.client.post(url, data=data))
    client = app.test_client()
    for body in (DEEP_LIST, DEEP_OBJECT, '{"username": "\\u0000", "password": "x"}'):
        response = client.post("/api/v1/security/login", data=body, content_type="application/json")
        failures.check(f"POST /api/v1/security/login {body[:20]!r}", response)
        assert response.status_code in (400, 401, 422), response.status_code
    failures.close()


@pytest.mark.parametrize(
    "value, cents",
    [
        ("12,34", 1234),
        ("1.234,56", 123456),
        ("€ 80", 8000),
        ("-45,00", -4500),
        (12.34, 1234),
        (0.29, 29),  # 0.29 * 100 is 28.999999999999996 as a float
        (Decimal("19.99"), 1999),
        (1005, 100500),
    ],
)
def test_issue13_amount_parsed_as_decimal(value, cents):
    from admin_app.domain.money import cents as parse

    assert parse(value, field="amount") == cents


@pytest.mark.parametrize(
    "value", ["12.345", "12,345", 12.345, 1e308, float("nan"), float("inf"), "NaN", True, [1]]
)
def test_issue13_amount_refuses_more_than_cents(value):
    from admin_app.domain.errors import InvalidInput
    from admin_app.domain.money import cents as parse

    with pytest.raises(InvalidInput):
        parse(value, field="amount")


def test_issue13_screen_page_size_bounded(app, world, login_as):
    """A screen's page size is at most 100 (like the API's max_page_size) for every
    ConsoleModelView; an asked-for 100,000 is brought back to 100."""
    from admin_app.views.base import ConsoleModelView

    browser = login_as("support")
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ConsoleModelView) or "list" not in view.include_route_methods:
            continue
        name = type(view).__name__
        response = browser.get(f"{view.route_base}/list/?psize_{name}=100000")
        if response.status_code == 404:
            continue  # not Support's screen
        assert response.status_code == 302, (name, response.status_code)
        assert f"psize_{name}=100" in response.headers["Location"]
        assert "100000" not in response.headers["Location"]


@pytest.mark.parametrize(
    "amount, status, cents",
    [("12,34", 201, 1234), (12.34, 201, 1234), ("12.345", 422, None), (1e308, 422, None)],
)
def test_issue13_amount_parsed_as_decimal_through_the_api(world, api_client, amount, status, cents):
    """An invoice's amount as typed or as a JSON number; more than cents is 422."""
    import datetime as dt

    client = api_client("garage-jansen")
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[0]
    response = client.post(
        "/api/v1/invoice/",
        json={
            "invoice_date": dt.date.today().isoformat(),
            "plate": car.plate_display,
            "amount": amount,
            "kind": "onderhoud",
        },
    )
    assert response.status_code == status, response.json
    if cents is None:
        assert set(response.json["errors"]) == {"amount"}
    else:
        assert response.json["result"]["amount_cents"] == cents


def test_issue13_deep_json_and_nul_are_400_in_the_contracts_shape(world, api_client):
    """The unauthenticated login and any endpoint: 400, Dutch, English with ?_l_=en."""
    anonymous = api_client(None)
    deep = anonymous.post("/api/v1/security/login", data=DEEP_LIST, content_type="application/json")
    assert deep.status_code == 400 and _contract_shape(deep)
    assert deep.json["message"] == "De inhoud is te diep genest."
    english = anonymous.post(
        "/api/v1/security/login?_l_=en", data=DEEP_OBJECT, content_type="application/json"
    )
    assert english.status_code == 400 and english.json["message"] == (
        "The body is nested too deeply."
    )
    garage = api_client("garage-jansen")
    nul = garage.post("/api/v1/fleet_account/", json={"name": "a\x00b", "email": "x@y.nl"})
    assert nul.status_code == 400 and _contract_shape(nul)
    # A body of megabytes is refused before it is walked (the depth count is Python).
    huge = garage.post(
        "/api/v1/fleet_account/", data=b"[" * 5_000_000, content_type="application/json"
    )
    assert (
        huge.status_code == 400 and huge.json["message"] == "De inhoud van het verzoek is te groot."
    )


def test_issue13_wrong_type_or_length_is_422_naming_the_field(world, api_client):
    garage = api_client("garage-jansen")
    wrong = garage.post(
        "/api/v1/fleet_account/",
        json={"name": 123, "email": ["x"], "manager_passport_id": "99999999999999999999"},
    )
    assert wrong.status_code == 422 and _contract_shape(wrong)
    assert set(wrong.json["errors"]) == {"name", "email", "manager_passport_id"}
    fleet_id = world.user("fleet-bakker").fleet_account_id
    long = garage.put(f"/api/v1/fleet_account/{fleet_id}", json={"name": LONG})
    assert long.status_code == 422
    assert long.json["errors"] == {"name": ["Hoogstens 200 tekens."]}


def test_issue13_screen_list_drops_arguments_fab_cannot_use(world, login_as):
    browser = login_as("garage-jansen")
    response = browser.get(
        "/passports/list/?page_PassportView=abc&_oc_PassportView=nope&_od_PassportView=asc"
        "&psize_PassportView=-1&_flt_9_plate=x&_flt_0_plate=12"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        "/passports/list/?_od_PassportView=asc&_flt_0_plate=12"
    )
    assert browser.get(response.headers["Location"]).status_code == 200


def test_issue13_scoped_get_ignores_ids_beyond_32_bits(world, acting_as):
    """A typed id of 30 digits names no row (SQLite raised OverflowError: a 500)."""
    from admin_app.models import Passport
    from admin_app.scope import scoped_get

    with acting_as("garage-jansen"):
        assert scoped_get(world.session, Passport, 10**30) is None
        assert scoped_get(world.session, Passport, "99999999999999999999") is None
        assert scoped_get(world.session, Passport, -1) is None


def test_issue13_an_id_no_row_can_have_is_404_not_500(app, world, api_client, login_as):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    garage = api_client("garage-jansen")
    for path in ("/api/v1/passport/99999999999999999999", "/api/v1/customer/4294967296"):
        answer = garage.get(path)
        assert answer.status_code == 404 and _contract_shape(answer)
    screen = login_as("garage-jansen")
    assert screen.get("/passports/show/99999999999999999999").status_code == 404
