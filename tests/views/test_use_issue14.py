"""Issue 14 (use): what a person meets walking the finished screens (R-X-2)."""

from __future__ import annotations

import re


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_issue14_own_profile_names_the_garage_and_fleet(login_as):
    """R-X-2: a login's own profile (/users/userinfo/) names the garage or fleet it works
    for, as Admin's user screen does — it showed a dash for both."""
    text = _text(login_as("garage-jansen").get("/users/userinfo/"))
    assert "Garage Autobedrijf Jansen" in text
    text = _text(login_as("fleet-bakker").get("/users/userinfo/"))
    assert "Wagenpark Bouwbedrijf Bakker" in text
    for username in ("eigenaar", "admin", "support"):
        assert login_as(username).get("/users/userinfo/").status_code == 200
