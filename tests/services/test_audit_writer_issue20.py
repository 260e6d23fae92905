"""Issue 20: one audit-row writer. Every audit_log row is written in services/audit/writing.py
(the ORM listener, record_bulk, record_select), the first two through one row builder."""

from __future__ import annotations

import ast
from pathlib import Path

from admin_app.models import AuditLog
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.audit.writing import audit_row

APP = Path(__file__).resolve().parents[2] / "admin_app"
WRITER = APP / "services" / "audit" / "writing.py"


def _writes_audit_rows(tree: ast.AST) -> bool:
    """An ``insert(AuditLog…)`` or an ``AuditLog(...)`` made by hand."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            named = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = ast.unparse(node.args[0])
            if named == "insert" and first.startswith("AuditLog"):
                return True
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "AuditLog":
            return True
    return False


def test_issue20_only_the_audit_writer_inserts_audit_rows():
    """R-SEC-2, issue 20: no module but services/audit/writing.py writes audit_log rows."""
    writers = [
        path.relative_to(APP).as_posix()
        for path in sorted(APP.rglob("*.py"))
        if _writes_audit_rows(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert writers == ["services/audit/writing.py"]


def test_issue20_the_check_sees_a_hand_made_audit_row():
    assert _writes_audit_rows(ast.parse("session.execute(insert(AuditLog.__table__), rows)"))
    assert _writes_audit_rows(ast.parse("session.add(AuditLog(action='x'))"))
    assert not _writes_audit_rows(ast.parse("select(AuditLog).where(AuditLog.id == 1)"))


def test_issue20_a_bulk_entry_is_the_listeners_row(world):
    """R-SEC-2: an entry record_bulk writes has the row the ORM listener writes, a secret
    masked alike."""
    session = world.session
    actor = Actor(None, "test", frozenset({"Admin"}))
    record_bulk(
        session, actor, "api_key", [("update", 7, {"token_hash": (None, "x"), "n": (1, 2)})]
    )
    written = session.query(AuditLog).order_by(AuditLog.id.desc()).first()
    expected = audit_row(
        actor,
        "update",
        "api_key",
        7,
        garage_id=None,
        passport_id=None,
        changes={"token_hash": [None, "***"], "n": [1, 2]},
    )
    for column in (
        "actor_id",
        "actor_name",
        "action",
        "table_name",
        "record_id",
        "garage_id",
        "passport_id",
        "changes",
    ):
        assert getattr(written, column) == expected[column], column
