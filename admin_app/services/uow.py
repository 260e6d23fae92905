"""Callers own the transaction: services flush, a unit of work commits or rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
