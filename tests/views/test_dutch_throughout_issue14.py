"""R-X-2: the console speaks Dutch throughout, and English on choice (issue 14).

A crawl logs in as every demo role, in Dutch and in English, and opens one URL per GET
route rule (URL parameters filled from the demo data in that role's scope). In every text
node of every HTML page (attributes and scripts are not read by a garage employee) it
looks for:

- a raw value of one of the models' enums (generated from the enum classes, so a new
  state cannot slip through), where a translated label belongs;
- in Dutch: a Flask-AppBuilder string left in English, and a word of a list of English UI
  words kept below;
- in English: a refusal reason stored in Dutch (rows refused since reasons are codes).
"""

from __future__ import annotations

import enum
import inspect
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import flask_appbuilder
import pytest
from babel.messages.extract import extract_from_dir
from sqlalchemy import select

from admin_app import models
from admin_app.models import (
    AuditLog,
    BatchJob,
    ConsoleUser,
    ContactProposal,
    Customer,
    FleetAccount,
    Garage,
    InspectionForm,
    Invoice,
    OutboxMessage,
    Passport,
)
from tests.conftest import DB_KIND

# The words do not depend on the database; one run on SQLite keeps the suite's time down.
pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="a crawl for words: SQLite only")

DATA = Path(__file__).resolve().parents[1] / "data"
ROLES = ("admin", "garage-jansen", "fleet-bakker", "support", "eigenaar")

# Not pages: logging out ends the crawl's session, the language switch is the crawl's own
# doing, and the API answers JSON (its texts are checked by the API tests).
SKIP_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "AuthDBView.logout",
    "AuthDBView.login",
    "LocaleView.index",
    "UtilView.back",
}

# Enum values that are also ordinary Dutch words or the domain's own Dutch terms.
# "link": a bulk task's kind (issue 15), and Dutch too ("Stuur mij een link").
DUTCH_WORDS = {"na", "ok", "apk", "link"}

# English a garage employee must not meet in the Dutch console (matched as whole words,
# case-sensitive, so Dutch words that merely contain them do not count).
ENGLISH_WORDS = """
Show Edit Delete Cancel Save Search Add List Actions Back Yes No True False None User Users
Groups Name Password Submit Information Changed Created Refresh Language Select Loading Page
Next Previous Settings Security Permissions Welcome Warning Error Confirm Close Clear Total
Date State Outcome Reason Row Plate Vehicle Owner Driver Fleet Customer Customers Invoice
Invoices Sent Pending Failed Running Done Cancelled Archived Activated Refused Unchanged
Updated Unknown Never Advice Inspection Inspector Remark Price Results Nothing Please
Forgot Remember Required Invalid Akties the your you and with
""".split()

WORD = r"(?<![\w-]){}(?![\w-])"

# FAB's permission names on Admin's role screens ("can read on Customer") are identifiers
# of views and endpoints, not words: FAB has no labels for them. So are the names of
# roles, views and permissions on those screens (Admin types and renames roles there).
PERMISSION_NAMES = re.compile(r"^\[?(can |menu access on |\w+ on \w)")


def _identifiers(session) -> set[str]:
    from sqlalchemy import text

    return {
        name
        for table in ("ab_role", "ab_view_menu", "ab_permission")
        for name in session.scalars(text(f"SELECT name FROM {table}"))
    }


# The stored change, shown as stored for Admin and Support (R-SEC-2): its field and table
# names are the point of that page.
RAW_CHANGE = re.compile(r"^/audit-log/\d+/raw")


def _enum_values() -> set[str]:
    values = set()
    for module in vars(models).values():
        for _, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, enum.Enum) and member.__module__.startswith("admin_app.models"):
                values |= {str(item.value) for item in member}
    return values


def _fab_msgids() -> set[str]:
    """Flask-AppBuilder's own strings, from its templates and code (its Dutch catalog
    lacks many), longer than a word like "In" that Dutch shares."""
    root = Path(flask_appbuilder.__file__).parent
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(root),
        [("**/templates/**.html", "jinja2"), ("**.py", "python")],
        keywords={"_": None, "gettext": None, "lazy_gettext": None},
    ):
        message = message if isinstance(message, str) else message[0]
        if len(message) > 3:
            found.add(message.strip())
    return found


class TextNodes(HTMLParser):
    """The text a person reads: text nodes outside <script>, <style> and <template>."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def text_nodes(html: str) -> list[str]:
    parser = TextNodes()
    parser.feed(html)
    return parser.texts


def _upload(browser, name: str) -> int:
    response = browser.post(
        "/batch-jobs/upload",
        {"file": (io.BytesIO((DATA / name).read_bytes()), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _batch_jobs(app, world, login_as) -> dict[str, int]:
    """A job in preview (its plans) and a job that ran (its outcomes), both with refused
    rows, at Jansen."""
    from admin_app.extensions import db
    from admin_app.jobs.batch import process_job

    browser = login_as("garage-jansen")
    previewed = _upload(browser, "klantenlijst-met-fouten.csv")
    ran = _upload(browser, "klantenlijst-voorbeeld.csv")
    browser.post(f"/batch-jobs/{ran}/confirm")
    with app.app_context():
        process_job(db.session, ran)
        db.session.commit()
        db.session.remove()
    return {"previewed": previewed, "ran": ran}


def _ids(world, username: str, jobs: dict[str, int]) -> dict:
    """One record per model that ``username`` may open: its own, or Jansen's."""
    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    user = world.user(username)
    passports = select(Passport).where(Passport.garage_id == jansen.id)
    if username == "fleet-bakker":
        passports = passports.where(Passport.fleet_account_id == user.fleet_account_id)
    if username == "eigenaar":
        passports = passports.join(Customer, Customer.id == Passport.owner_id).where(
            Customer.email == user.email, Passport.state == "activated"
        )
    passport = s.scalars(passports.order_by(Passport.id)).unique().first()
    form = s.scalars(
        select(InspectionForm)
        .where(InspectionForm.garage_id == jansen.id, InspectionForm.version > 0)
        .order_by(InspectionForm.version.desc())
    ).first()

    def first(model, *criteria):
        return s.scalar(select(model.id).where(*criteria).order_by(model.id.desc()))

    return {
        Passport: passport.id,
        Customer: passport.owner_id,
        FleetAccount: user.fleet_account_id
        or first(FleetAccount, FleetAccount.garage_id == jansen.id),
        Garage: jansen.id,
        ConsoleUser: user.id,
        AuditLog: first(AuditLog, AuditLog.garage_id == jansen.id),
        OutboxMessage: first(OutboxMessage, OutboxMessage.garage_id == jansen.id),
        InspectionForm: form.id,
        ContactProposal: first(ContactProposal, ContactProposal.garage_id == jansen.id),
        Invoice: first(Invoice, Invoice.garage_id == jansen.id),
        BatchJob: jobs["previewed"],
    }


def _models_by_view(app) -> dict:
    found = {}
    for view in app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if datamodel is not None:
            found[view.__class__.__name__] = datamodel.obj
    found["InspectionView"] = InspectionForm
    return found


def _url(app, rule, ids: dict, model) -> str | None:
    """One URL for a GET rule with its parameters filled in, or None to leave it out."""
    from flask import url_for
    from werkzeug.routing import BuildError

    values = {}
    for arg in rule.arguments:
        if arg == "token":
            return None  # a mailed link: its own tests open it
        if arg in ("pk", "role_id", "form_id", "passport_id"):
            values[arg] = ids.get(model) or ids[Passport]
        elif arg == "kind":
            return None  # downloads (templates, exports)
        elif type(rule._converters.get(arg)).__name__ == "IntegerConverter":
            values[arg] = 1
        else:
            return None
    with app.test_request_context():
        try:
            return url_for(rule.endpoint, **values)
        except BuildError:
            return None


def _pages(app, browser, ids: dict):
    models_by_view = _models_by_view(app)
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.endpoint in SKIP_ENDPOINTS
            or rule.rule.startswith("/api/")
        ):
            continue
        model = models_by_view.get(rule.endpoint.split(".")[0])
        url = _url(app, rule, ids, model)
        if url is None:
            continue
        response = browser.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        yield url, response.get_data(as_text=True)


def _findings(texts, patterns) -> list[str]:
    found = []
    for text in texts:
        for label, pattern in patterns:
            if pattern.search(text):
                found.append(f"{label} in {text[:120]!r}")
    return found


@pytest.fixture()
def crawl_patterns():
    enum_values = _enum_values()
    dutch = [
        (f"enum value {v!r}", re.compile(WORD.format(re.escape(v)), re.IGNORECASE))
        for v in sorted(enum_values - DUTCH_WORDS)
    ]
    dutch += [(f"English word {w!r}", re.compile(WORD.format(re.escape(w)))) for w in ENGLISH_WORDS]
    fab = _fab_msgids()
    # In English, a raw value is told from its label by its case and its underscores.
    english = [
        (f"enum value {v!r}", re.compile(WORD.format(re.escape(v))))
        for v in sorted(enum_values)
        if "_" in v or v.isupper()
    ]
    # FAB's value for "nothing chosen", shown as the empty choice's text.
    raw = [("FAB's raw '__None'", re.compile(r"__None"))]
    return {"nl": (dutch + raw, fab), "en": (english + raw, set())}


# Stored Dutch: refusal reasons (customer lists) and inspection version summaries. Since
# issue 14 both are codes; in English none may show.
DUTCH_STORED = re.compile(
    r"is geen Nederlands kenteken|ontbreekt|herhaalt rij|geen geldig e-mailadres|"
    r"andere garage|supportdesk|Eerste versie|gewijzigd|Advies:",
    re.IGNORECASE,
)


def test_issue14_r_x_2_every_page_of_every_role_speaks_one_language(
    app, world, login_as, crawl_patterns
):
    """R-X-2: no raw enum value, untranslated FAB string or English word in the Dutch
    console; no raw enum value or stored Dutch (refusal reasons, version summaries) in
    the English console; every page's <html lang> is its language."""
    jobs = _batch_jobs(app, world, login_as)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problems, pages = [], 0
    identifiers = _identifiers(world.session)
    for username in ROLES:
        ids = _ids(world, username, jobs)
        for language in ("nl", "en"):
            browser = login_as(username)
            browser.get(f"/lang/{language}")
            patterns, fab = crawl_patterns[language]
            visited = list(_pages(app, browser, ids))
            if username == "garage-jansen":  # the job that ran: its rows' outcomes
                ran = f"/batch-jobs/show/{jobs['ran']}"
                visited.append((ran, browser.get(ran).get_data(as_text=True)))
            for url, html in visited:
                pages += 1
                texts = [
                    t
                    for t in text_nodes(html)
                    if not PERMISSION_NAMES.match(t) and t not in identifiers
                ]
                if RAW_CHANGE.match(url):
                    texts = []
                found = _findings(texts, patterns)
                found += [f"FAB string {t!r}" for t in texts if t in fab]
                if language == "en":
                    found += [f"stored Dutch in {t!r}" for t in texts if DUTCH_STORED.search(t)]
                lang = re.search(r"<html[^>]*\blang=\"(\w+)\"", html)
                if "<html" in html and (not lang or lang.group(1) != language):
                    found.append(f'<html> without lang="{language}"')
                problems += [f"{username} {language} {url}: {f}" for f in sorted(set(found))]
    assert pages > 100, pages
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
