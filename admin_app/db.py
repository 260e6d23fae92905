"""Who owns the transaction: the caller. Services flush; a view or API request commits or rolls
back through `unit_of_work`, a job commits between its own steps (see admin_app/jobs/)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from sqlalchemy import CursorResult, Result, Select
from sqlalchemy.orm import Session

from admin_app.services.audit import Actor, set_actor


@contextmanager
def unit_of_work(session: Session, actor: Actor | None = None) -> Iterator[Session]:
    if actor is not None:
        set_actor(session, actor)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def changed_rows(result: Result) -> int:
    """The rows an UPDATE or DELETE touched: `Session.execute` is typed as returning a plain
    Result, but for those statements it is always a CursorResult."""
    return cast(CursorResult, result).rowcount


def count_of(session: Session, statement: Select) -> int:
    """The number a ``select(func.count())`` answers (``Session.scalar`` is typed as maybe
    None, but a count always has a row)."""
    return session.execute(statement).scalar_one()
