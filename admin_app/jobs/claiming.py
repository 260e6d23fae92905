"""One row of work claimed by one worker, just before it is done (issue 17).

Mail and webhook deliveries are claimed one at a time: a batch claimed under one timestamp
went stale at its tail behind a slow relay or receiver, and a second live worker sent that
tail again. PostgreSQL: FOR UPDATE SKIP LOCKED, so workers claiming at once each take
another row and never wait on each other. SQLite (one writer): the claim's condition is
repeated in the UPDATE; whoever changes the row first wins, the other tries the next one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows

LOST_RACES = 10  # on SQLite; PostgreSQL skips locked rows instead


def claim_next(
    session: Session, model, *, now: datetime, stale_after: timedelta, waiting: str, busy: str
):
    """The oldest row of ``model`` due by ``now`` (state ``waiting``), or claimed longer
    than ``stale_after`` ago by a worker that went away (state ``busy``), set to ``busy``
    and committed for this worker alone; None when there is nothing to claim. The model
    has ``state``, ``next_attempt_at`` and ``claimed_at``."""
    claimable = or_(
        and_(model.state == waiting, model.next_attempt_at <= now),
        and_(model.state == busy, model.claimed_at < now - stale_after),
    )
    candidates = select(model.id).where(claimable).order_by(model.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    for _ in range(LOST_RACES):
        row_id = session.scalar(candidates)
        if row_id is None:
            session.commit()
            return None
        result = session.execute(
            update(model)
            .where(model.id == row_id, claimable)
            .values(state=busy, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if changed_rows(result) == 1:
            row = session.get(model, row_id)
            session.refresh(row)
            return row
    return None
