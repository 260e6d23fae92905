"""Issue 20, "services flush, never commit": the caller owns the transaction (a view or
API request through admin_app.db.unit_of_work, a job between its own steps), so no
module in admin_app/services commits or opens a transaction that commits on its own.

Read with ``ast``, not grep: a comment or a docstring that says "commit" does not count,
a call does, however it is spelled (``session.commit()``, ``connection.commit()``,
``with engine.begin():``)."""

from __future__ import annotations

import ast
from pathlib import Path

import admin_app

SERVICES = Path(admin_app.__file__).parent / "services"
# Calls that end a transaction or open one that commits when its block ends.
# (begin_nested is a savepoint inside the caller's transaction: allowed.)
COMMITTING = {"commit", "begin"}


def commits_in(source: str) -> list[int]:
    """The lines of ``source`` that call ``.commit()`` or ``.begin()`` on anything."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in COMMITTING
    )


def commits_in_services(folder: Path = SERVICES) -> dict[str, list[int]]:
    """Every service module (subpackages too) that commits, with the lines where."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        name = path.relative_to(folder).as_posix()
        if lines := commits_in(path.read_text(encoding="utf-8")):
            found[name] = lines
    return found


def test_issue20_no_service_commits_the_callers_transaction():
    """Issue 20: services flush; the job or request that calls them commits."""
    assert commits_in_services() == {}


def test_issue20_the_check_sees_a_commit_however_spelled_and_not_a_word():
    """The rule's reader: calls count, words in comments and docstrings do not."""
    source = '''
def step(session, engine):
    """Commits nothing: the caller's session.commit() does."""
    session.flush()  # not session.commit()
    with session.begin_nested():
        pass
    session.commit()
    session.connection().commit()
    with engine.begin() as connection:
        pass
'''
    assert commits_in(source) == [7, 8, 9]


def test_issue20_unit_of_work_lives_with_the_session_not_in_services():
    """Issue 20: admin_app.db owns unit_of_work; no shim is left in services."""
    from admin_app.db import unit_of_work

    assert unit_of_work.__module__ == "admin_app.db"
    assert not (SERVICES / "uow.py").exists()
