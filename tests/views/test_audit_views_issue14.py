"""Issue 14, R-SEC-2: the passport's history and the audit log read as sentences; the
change as stored stays on a page of its own for the roles that read the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_app.models import AuditLog

RAW_WORDS = ("passport insert", "customer update", "owner_id", "stock_car", "created_at:", "+00:00")


def _passport_entry(world):
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id)[0]
    entry = world.session.scalars(
        select(AuditLog).where(
            AuditLog.table_name == "passport",
            AuditLog.record_id == passport.id,
            AuditLog.action == "insert",
        )
    ).first()
    return passport, entry


def test_issue14_the_passport_history_reads_as_sentences(world, login_as):
    """R-SEC-2: "AutoPaspoort aangemaakt" with its fields by their screen labels."""
    passport, _ = _passport_entry(world)
    page = login_as("garage-jansen").get(f"/passports/show/{passport.id}").get_data(as_text=True)
    history = page[page.index("passport-history") :]
    assert "AutoPaspoort aangemaakt" in history
    assert f"Eigenaar: {passport.owner.full_name}" in history
    for raw in RAW_WORDS:
        assert raw not in history
    # A garage may not read the audit log: no link to the stored change.
    assert "/audit-log/" not in history


def test_issue14_support_reaches_the_stored_change_from_the_history(world, login_as):
    passport, entry = _passport_entry(world)
    page = login_as("support").get(f"/passports/show/{passport.id}").get_data(as_text=True)
    assert f"/audit-log/{entry.id}/raw" in page


@pytest.mark.parametrize(
    "language, changed, created",
    [
        ("nl", "AutoPaspoort gewijzigd", "AutoPaspoort aangemaakt"),
        ("en", "Passport changed", "Passport created"),
    ],
)
def test_issue14_the_audit_log_reads_as_sentences(world, login_as, language, changed, created):
    browser = login_as("admin")
    page = browser.get(f"/audit-log/list/?_l_={language}").get_data(as_text=True)
    assert changed in page
    for raw in RAW_WORDS:
        assert raw not in page
    _, entry = _passport_entry(world)
    shown = browser.get(f"/audit-log/show/{entry.id}?_l_={language}").get_data(as_text=True)
    assert created in shown and f"/audit-log/{entry.id}/raw" in shown
    for raw in RAW_WORDS:
        assert raw not in shown


@pytest.mark.parametrize(
    "username, status",
    [
        ("admin", 200),
        ("support", 200),
        ("garage-jansen", 404),
        ("garage-devries", 404),
        ("fleet-bakker", 404),
        ("eigenaar", 404),
    ],
)
def test_issue14_the_stored_change_is_for_admin_and_support_only(world, login_as, username, status):
    """R-SEC-2: /audit-log/<id>/raw shows the entry as stored; roles without the audit
    log get 404, as for every screen they have no permission for."""
    _, entry = _passport_entry(world)
    response = login_as(username).get(f"/audit-log/{entry.id}/raw")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert "owner_id" in page and "passport" in page and "insert" in page


def test_issue14_the_stored_change_asks_a_login(world, browser):
    _, entry = _passport_entry(world)
    response = browser().get(f"/audit-log/{entry.id}/raw")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_issue14_a_stored_change_that_does_not_exist_is_404(world, login_as):
    assert login_as("admin").get("/audit-log/999999/raw").status_code == 404
