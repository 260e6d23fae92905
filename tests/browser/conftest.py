"""A live server and Debian's Chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    """The browser drives screens whose database work the view and service tests check on
    both databases: on PostgreSQL a browser run repeats them and adds minutes to a suite
    that must stay under 20 (issue 15), so the browser tests run on SQLite only."""
    from tests.conftest import DB_KIND

    if DB_KIND == "sqlite":
        return
    skip = pytest.mark.skip(reason="browser tests: SQLite only (the screens, not the database)")
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(skip)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(app, chromium, live_server, world):
    # Every browser logs in from 127.0.0.1: lift the login limit while they run.
    limit = app.config["AUTH_RATE_LIMIT"]
    app.config["AUTH_RATE_LIMIT"] = "1000 per second"
    context = chromium.new_context(base_url=live_server, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    # Issue 17: a script or handler the Content-Security-Policy blocks fails the test
    # that met it (Chromium reports each refusal on the console).
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # A refused eval (new Function in a library's templates) is thrown, not logged.
    page.on(
        "pageerror",
        lambda error: (
            refused.append(str(error)) if "Content Security Policy" in str(error) else None
        ),
    )
    yield page
    context.close()
    app.config["AUTH_RATE_LIMIT"] = limit
    assert refused == [], refused


def log_in(page, username, password="demo"):
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def deliver_mail(app) -> None:
    """What the worker's clock does: send the outbox to the (test's) SMTP server."""
    from admin_app.extensions import db
    from admin_app.jobs.mail import deliver_due

    with app.app_context():
        deliver_due()
        db.session.remove()
