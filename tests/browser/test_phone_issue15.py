"""Issue 15, "On a phone" (R-X-2, R-FL-5, R-PP-4, R-TR-2, R-SEC-3, R-IN-6, R-CP-2): fleet
managers and owners open their pages on a phone. At 390×844, in Dutch and English, each of
their pages, the pages behind mailed links and the login pages

- declares itself for a phone (the layout viewport is the screen, not a desktop page
  zoomed out),
- does not scroll sideways, and every table cell lies on the screen (a wide table shows
  its rows as cards instead of hiding its last columns in a box scrolled sideways),
- has each primary button within the screen's width and clickable, not touching another.

The navbar collapses: its toggle opens it, its items, the language switch and the user
menu can be tapped.

The browser is a phone's (touch, meta viewport honoured), not a narrow desktop window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.browser.conftest import log_in
from tests.conftest import DB_KIND
from tests.mails import mail_text

# Layout does not depend on the database; one run on SQLite keeps the suite's time down.
pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="layout in a browser: SQLite only")

WIDTH, HEIGHT = 390, 844
LAYOUT = """() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    lang: document.documentElement.lang,
    cellsOff: [...document.querySelectorAll('td')]
        .filter(td => td.getClientRects().length)
        .map(td => [td, td.getBoundingClientRect()])
        .filter(([td, box]) => box.width > 0
            && (box.left < -0.5 || box.right > window.innerWidth + 0.5))
        .map(([td, box]) => `${td.innerText.trim().slice(0, 30)}`
            + ` (${Math.round(box.left)}–${Math.round(box.right)} px)`)
        .slice(0, 5),
})"""


@dataclass(frozen=True)
class Screen:
    name: str
    login: str | None  # who opens it; None: no login (a mailed link, the login pages)
    path: str  # may name {car}, {fleet_car} or a mailed link ({activate}, ...)
    buttons: tuple[str, ...]  # the page's primary controls (CSS selectors, each present)


SCREENS = [
    Screen("login", None, "/login/", ("input[type=submit]", "a[href*='forgot-password']")),
    Screen("forgot password", None, "/forgot-password", ("button[type=submit]",)),
    Screen("reset password", None, "{reset}", ("button[type=submit]",)),
    Screen("activation", None, "{activate}", ("button[type=submit]",)),
    Screen("opt-out", None, "{opt_out}", ("#opt-out",)),
    Screen("inspection (mailed)", None, "{inspection}", ()),
    Screen("dead link", None, "/opt-out/no-such-link", ("a[href='/']",)),
    Screen("owner's home", "eigenaar", "/", (".navbar-toggle", "table.my-passports td.plate a")),
    Screen("owner's profile", "eigenaar", "/users/userinfo/", (".well a.btn",)),
    Screen("my vehicles", "eigenaar", "/my-vehicles/list/", ("a[href*='/my-vehicles/show/']",)),
    Screen("owner's car", "eigenaar", "/my-vehicles/show/{car}", (".profile-actions .btn",)),
    Screen(
        "I sold this car",
        "eigenaar",
        "/my-vehicles/{car}/transfer",
        ("button[type=submit]", "form a.btn"),
    ),
    Screen("accept the car", "eigenaar", "{accept}", ("button[type=submit]",)),
    Screen("fleet home", "fleet-bakker", "/", ("table.my-fleet .dropdown-toggle",)),
    Screen(
        "fleet dashboard",
        "fleet-bakker",
        "/my-fleet/list/",
        ("table.my-fleet td.plate a", "table.my-fleet .dropdown-toggle"),
    ),
    Screen("fleet car", "fleet-bakker", "/my-fleet/show/{fleet_car}", ()),
    Screen(
        "new driver",
        "fleet-bakker",
        "/my-fleet/{fleet_car}/driver",
        ("button[type=submit]", "form a.btn"),
    ),
    Screen(
        "fleet transfer",
        "fleet-bakker",
        "/my-fleet/{fleet_car}/transfer",
        ("button[type=submit]", "form a.btn"),
    ),
]


@pytest.fixture()
def phone(app, chromium, live_server, world):
    """A phone's browser: 390×844 CSS pixels, touch, and the page's meta viewport honoured
    (a page without one is laid out 980 px wide and zoomed out, as on a real phone)."""
    limit = app.config["AUTH_RATE_LIMIT"]
    app.config["AUTH_RATE_LIMIT"] = "1000 per second"
    context = chromium.new_context(
        base_url=live_server,
        locale="nl-NL",
        viewport={"width": WIDTH, "height": HEIGHT},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    app.config["AUTH_RATE_LIMIT"] = limit


def _queue(session, **mail):
    from admin_app.services.outbox import queue_mail

    message = queue_mail(session, subject="test", **mail)
    session.commit()
    return message


def _link(session, message, path: str) -> str:
    text = mail_text(session, message)
    return re.search(rf"https?://[^/\s]+(/{path}/\S+)", text).group(1)


def _mailed_links(world) -> dict[str, str]:
    """A fresh link of each kind, as the worker writes it into its mail."""
    from admin_app.models import ContactProposal, Customer, OutboxMessage

    session = world.session

    def outbox(kind, recipient=None):
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        return session.scalars(query).first()

    proposal = session.scalars(
        select(ContactProposal)
        .join(Customer, Customer.id == ContactProposal.customer_id)
        .where(Customer.email.is_not(None), Customer.never_contact.is_(False))
        .order_by(ContactProposal.id)
    ).first()
    eva = world.user("eigenaar")
    return {
        "activate": _link(session, outbox("activation"), "activate"),
        "accept": _link(session, outbox("transfer_notice", eva.email), "transfer/accept"),
        "inspection": _link(session, outbox("inspection"), "inspection"),
        "opt_out": _link(
            session,
            _queue(
                session,
                recipient=proposal.customer.email,
                kind="invitation",
                params={"proposal_id": proposal.id},
                garage_id=proposal.customer.garage_id,
            ),
            "opt-out",
        ),
        "reset": _link(
            session,
            _queue(session, recipient=eva.email, kind="password_reset", params={"user_id": eva.id}),
            "reset-password",
        ),
    }


def _cars(world) -> dict[str, int]:
    from admin_app.models import Passport, PassportClaim

    session = world.session
    eva = world.user("eigenaar")
    bakker = world.user("fleet-bakker")
    owned = session.scalars(
        select(PassportClaim.passport_id)
        .where(PassportClaim.user_id == eva.id, PassportClaim.role == "owner")
        .order_by(PassportClaim.passport_id)
    ).first()
    fleet_car = session.scalars(
        select(Passport.id)
        .where(Passport.fleet_account_id == bakker.fleet_account_id, Passport.state == "activated")
        .order_by(Passport.plate)
    ).first()
    return {"car": owned, "fleet_car": fleet_car}


def _set_language(page, language):
    # FAB's language switch keeps the choice in the session (?_l_= holds for one page).
    page.goto(f"/lang/{language}")
    page.wait_for_load_state()


def _button_problems(page, screen, where) -> list[str]:
    from playwright.sync_api import Error as PlaywrightError

    problems, boxes = [], []
    for selector in screen.buttons:
        controls = page.locator(selector)
        if not controls.count():
            problems.append(f"{where}: no {selector}")
        # The first few of a list (a card per car) stand for the rest.
        for index in range(min(controls.count(), 3)):
            control = controls.nth(index)
            try:
                # Visible, enabled, not covered by anything: a tap reaches it.
                control.click(trial=True, timeout=3000)
            except PlaywrightError as error:
                reason = error.message.splitlines()[-1]
                problems.append(f"{where}: {selector} #{index} cannot be tapped: {reason}")
                continue
            box = control.bounding_box()
            if box["x"] < 0 or box["x"] + box["width"] > WIDTH:
                problems.append(
                    f"{where}: {selector} at x {box['x']:.0f}–{box['x'] + box['width']:.0f} px"
                )
            # On the page, not in the window: the tap above scrolled each into view, so
            # two buttons far apart could meet at the same place in the window (issue 18:
            # a taller recall cell brought two cards' "Actie" there).
            boxes.append((selector, {**box, "y": box["y"] + page.evaluate("window.scrollY")}))
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] < b["x"]
                or b["x"] + b["width"] < a["x"]
                or a["y"] + a["height"] < b["y"]
                or b["y"] + b["height"] < a["y"]
            )
            if not apart:
                problems.append(f"{where}: {first} and {second} touch ({a} / {b})")
    return problems


@pytest.mark.parametrize("language", ["nl", "en"])
def test_issue15_phone_pages_fit_and_their_buttons_are_reachable(phone, app, world, language):
    """R-X-2, R-FL-5, R-PP-4, R-TR-2, R-SEC-3, R-IN-6, R-CP-2: every page a fleet manager or
    owner opens, and the pages of the mailed links, fit a 390 px phone screen in Dutch and
    English; their tables do not hide columns sideways; their buttons can be tapped."""
    with app.app_context():  # a committed mail is handed to the queue
        values = {**_mailed_links(world), **_cars(world)}
    problems = []
    current_login = object()
    for screen in SCREENS:
        if screen.login != current_login:
            phone.goto("/logout/")
            if screen.login:
                log_in(phone, screen.login)
            _set_language(phone, language)
            current_login = screen.login
        where = f"{screen.name} ({language})"
        phone.goto(screen.path.format(**values))
        phone.wait_for_load_state()
        layout = phone.evaluate(LAYOUT)
        if screen.name != "inspection (mailed)":  # the garage's form, in the garage's words
            assert layout["lang"] == language, f"{where}: page in {layout['lang']}"
        if layout["innerWidth"] != WIDTH:
            problems.append(f"{where}: laid out {layout['innerWidth']} px wide (no viewport)")
        if layout["scrollWidth"] > layout["innerWidth"]:
            problems.append(f"{where}: page {layout['scrollWidth']} px wide")
        if layout["cellsOff"]:
            problems.append(f"{where}: cells off the screen: {layout['cellsOff']}")
        problems += _button_problems(phone, screen, where)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_issue15_fleet_action_menu_opens_within_the_phone_screen(phone, world, language):
    """R-FL-5: the first car's "Actie" menu opens on the screen and its items can be tapped."""
    log_in(phone, "fleet-bakker")
    _set_language(phone, language)
    phone.goto("/my-fleet/list/")
    phone.locator("table.my-fleet .dropdown-toggle").first.click()
    for item in ["a.change-driver", "a.transfer-owner"]:
        link = phone.locator(f"table.my-fleet .open {item}")
        link.click(trial=True)
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{item} at {box}"


@pytest.mark.parametrize("username", ["eigenaar", "fleet-bakker"])
def test_issue15_phone_navbar_opens_and_its_items_can_be_tapped(phone, world, username):
    """R-X-2: on a phone the navbar is collapsed behind its toggle; opened, its menu items,
    the language switch and the user menu (profile, log out) can be tapped, and the switch
    turns the page English."""
    log_in(phone, username)
    _set_language(phone, "nl")
    phone.goto("/")
    menu = phone.locator(".navbar-collapse").first
    assert not menu.is_visible()
    phone.locator(".navbar-toggle").click()
    menu.wait_for(state="visible")
    items = phone.locator(".navbar-collapse .navbar-nav:not(.navbar-right) > li > a")
    assert items.count()
    for index in range(items.count()):
        items.nth(index).click(trial=True)
    toggles = phone.locator(".navbar-right > li > a.dropdown-toggle")
    assert toggles.count() == 2  # the language, the user
    toggles.nth(1).click()
    for href in ["/users/userinfo/", "/logout/"]:
        phone.locator(f".navbar-right .open a[href='{href}']").click(trial=True)
    # Closed before the next one opens: on a busy machine a click on the language toggle
    # while the user menu was still open did not always open it.
    toggles.nth(1).click()
    phone.locator(".navbar-right > li.open").wait_for(state="detached")
    toggles.nth(0).click()
    english = phone.locator(".navbar-right .open a[href='/lang/en']")
    english.wait_for(state="visible")
    box = english.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    english.click()
    phone.wait_for_load_state()
    assert phone.get_attribute("html", "lang") == "en"


@pytest.mark.parametrize("path", ["/", "/my-vehicles/list/"])
def test_issue15_owner_cars_stay_a_table_at_1366(page, world, path):
    """R-X-2: the owner's lists are cards on a phone only; at 1366 px rows and columns stay,
    without labels before the values."""
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "eigenaar")
    page.goto(path)
    row = page.locator("table.table-stacked tbody tr:has(td)").first
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    labels = row.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert set(labels) == {"none"}, labels


@pytest.mark.parametrize(
    ("username", "sell", "back", "cancel"),
    [
        (
            "eigenaar",
            "/my-vehicles/{car}/transfer",
            "/my-vehicles/show/{car}",
            "#cancel-transfer-form button",
        ),
        (
            "fleet-bakker",
            "/my-fleet/{fleet_car}/transfer",
            "/my-fleet/list/",
            "form.cancel-transfer button",
        ),
    ],
)
def test_issue15_a_sale_can_be_cancelled_on_a_phone(phone, world, username, sell, back, cancel):
    """R-TR-1, R-TR-2, R-FL-6: after "I sold this car" to someone with a login, the button that
    takes the sale back lies on the phone's screen and can be tapped; the page still fits."""
    cars = _cars(world)
    log_in(phone, username)
    _set_language(phone, "nl")
    phone.goto(sell.format(**cars))
    for field, value in [
        ("#email", "nieuwe.eigenaar@example.com"),
        ("#email_again", "nieuwe.eigenaar@example.com"),
        ("#last_name", "Eigenaar"),
    ]:
        phone.fill(field, value)
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    phone.goto(back.format(**cars))
    layout = phone.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["innerWidth"] == WIDTH, layout
    assert not layout["cellsOff"], layout["cellsOff"]
    screen = Screen("sold", username, back, (cancel,))
    assert not _button_problems(phone, screen, f"{username} {back}")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_issue15_owner_searches_his_cars_on_a_phone(phone, world, language):
    """R-X-2: FAB's search on "Mijn voertuigen" at 390 px: the plate filter's operator and
    the box one types in lie on the screen at a usable width (the box was squeezed to 40 px
    at the edge of a row scrolled sideways), and the search finds the car."""
    from admin_app.models import Passport

    plate = world.session.get(Passport, _cars(world)["car"]).plate_display
    log_in(phone, "eigenaar")
    _set_language(phone, language)
    phone.goto("/my-vehicles/list/")
    phone.locator("a.accordion-toggle").click()
    phone.locator("#filter_form .dropdown-toggle").click()
    phone.locator("#filter_form a.filter[name=plate]").click()
    value = phone.locator("#filter_form .filters input.filter_val")
    for part in ["#filter_form .filters .select2-container", "#filter_form .filters input"]:
        box = phone.locator(part).first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH and box["width"] >= 200, (
            f"{part} at {box}"
        )
    value.fill(plate[:4])
    layout = phone.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["innerWidth"] == WIDTH, layout
    phone.locator("#filter_form button[type=submit]").click()
    phone.wait_for_load_state()
    assert plate in phone.locator("table.table-stacked").inner_text()
