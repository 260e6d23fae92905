"""Issue 20: the passport screens read a row the one way (web/lookup.scoped_or_404,
R-SEC-1) and decide nothing the services decide (services/passports.allowed_actions,
services/transfers.TransferPath)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).parents[2] / "admin_app"
# The passport screens: the list and profile, and the modules split out of it (issue 20).
VIEWS = [
    APP / "views" / name
    for name in (
        "passports.py",
        "passport_forms.py",
        "passport_profile.py",
        "register_values.py",
        "my_vehicles.py",
    )
    if (APP / "views" / name).exists()
]


def _source() -> str:
    return "\n".join(path.read_text() for path in VIEWS)


def _calls(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_issue20_the_passport_screens_have_no_scoped_get_or_404_of_their_own():
    """R-SEC-1: no copy of web/lookup.scoped_or_404 (a scoped_get, then abort)."""
    calls = _calls(ast.parse(_source()))
    assert "scoped_or_404" in calls
    assert not {"scoped_get", "abort"} & calls


def test_issue20_the_passport_screens_read_no_transfer_or_passport_state_to_decide():
    """R-TR-2, R-PP-4: which path a transfer took and whether a passport may be sent again
    are the services' answers; a screen compares no state to a state's name."""
    tree = ast.parse(_source())
    compared = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Attribute)
        and node.left.attr == "state"
        and "transfer" in ast.unparse(node.left.value)
    ]
    assert compared == []
    assert '("created", "sent")' not in _source()


def test_issue20_the_profile_and_the_passport_update_are_read_in_named_steps():
    """R-PP-1: profile_context and update_passport stay at a complexity of 15 or less
    (radon), each part a named function."""
    from radon.complexity import cc_visit

    services = APP / "services" / "passports"
    sources = [*VIEWS, *(sorted(services.glob("*.py")) or [services.with_suffix(".py")])]
    blocks = {b.name: b.complexity for path in sources for b in cc_visit(path.read_text())}
    assert blocks["profile_context"] <= 15
    assert blocks["update_passport"] <= 15
