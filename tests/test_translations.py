"""R-X-2: Dutch by default, English on choice, nothing user-visible without Dutch."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "admin_app" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
METHODS = [("admin_app/**.py", "python"), ("admin_app/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def source_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def dutch() -> dict[str, str]:
    """Ours, over FAB's own Dutch catalog (for FAB's strings in templates we override)."""
    import flask_appbuilder

    fab = Path(flask_appbuilder.__file__).parent / "translations/nl/LC_MESSAGES/messages.po"
    messages = {}
    for path in (fab, CATALOG):
        with path.open("rb") as handle:
            messages.update({m.id: m.string for m in read_po(handle) if m.id and m.string})
    return messages


def test_r_x_2_every_message_in_the_code_has_a_dutch_translation():
    catalog = dutch()
    missing = sorted(m for m in source_messages() if not catalog.get(m))
    assert not missing, f"no Dutch for: {missing}"


def test_r_x_2_the_catalog_is_not_fuzzy():
    with CATALOG.open("rb") as handle:
        assert not [m.id for m in read_po(handle) if m.id and m.fuzzy]


PAGES = {
    "admin": [
        "/",
        "/passports/list/",
        "/garages/list/",
        "/users/list/",
        "/audit-log/list/",
        "/outbox/list/",
    ],
    "garage-jansen": [
        "/",
        "/passports/list/",
        "/customers/list/",
        "/fleet-accounts/list/",
        "/colleagues/list/",
        "/colleagues/new",
        "/passports/new",
        "/my-garage/logo",
    ],
    "support": ["/", "/passports/list/", "/outbox/list/"],
    "fleet-bakker": ["/my-fleet/list/"],
    "eigenaar": ["/", "/my-vehicles/list/"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_r_x_2_pages_show_no_english_left_in_dutch(world, login_as, username):
    with CATALOG.open("rb") as handle:
        ours = {m.id: m.string for m in read_po(handle) if m.id}
    english_only = {m for m, nl in ours.items() if nl != m and len(m) >= 12}
    browser = login_as(username)
    for path in PAGES[username]:
        response = browser.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        leftovers = sorted(m for m in english_only if m in body)
        assert not leftovers, f"{path}: {leftovers}"


def test_r_x_2_english_on_choice(world, login_as):
    browser = login_as("garage-jansen")
    browser.get("/lang/en")
    assert "Passports by state" in browser.get("/").get_data(as_text=True)
    browser.get("/lang/nl")
    assert "AutoPaspoorten per status" in browser.get("/").get_data(as_text=True)
