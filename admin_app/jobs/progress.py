"""Progress a long build reports while it runs (an export, a register import).

The page polls it while the build's own transaction is still open (reading, or a COPY
that shows nothing until it commits), so it is written in a session of its own and
committed at once. Services only write it; the job owns this commit, as it owns every
other (DESIGN-NOTES "Who owns the transaction").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session


@contextmanager
def progress_reporter(
    engine: Engine | Connection, write: Callable[..., None]
) -> Iterator[Callable[..., None]]:
    """A callback for the build's ``progress=``: each call runs ``write(session, *values)``
    in the reporter's own session and commits it."""
    with Session(bind=engine) as session:

        def report(*values) -> None:
            write(session, *values)
            session.commit()

        yield report
