"""Who owns the transaction: the caller. Services flush; a view or API request commits or rolls
back through `unit_of_work`, a job commits between its own steps (see admin_app/jobs/)."""

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
