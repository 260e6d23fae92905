"""The checklist (R-IN-4): the platform's standard checkpoints and a garage's own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden, InvalidInput, NotFound
from admin_app.models import Checkpoint
from admin_app.roles import GARAGE
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.audit import Actor


def checklist(session: Session, garage_id: int) -> list[Checkpoint]:
    return list(
        session.scalars(
            select(Checkpoint)
            .where(or_(Checkpoint.garage_id.is_(None), Checkpoint.garage_id == garage_id))
            .order_by(Checkpoint.position, Checkpoint.id)
            .execution_options(**{ALL_TENANTS: True})
        )
    )


def add_checkpoint(session: Session, *, group: str, name: str, actor: Actor) -> Checkpoint:
    """A garage's own checkpoint, listed after the standard ones of its group (R-IN-4)."""
    if not actor.has(GARAGE) or not actor.garage_id:
        raise Forbidden(_l("Only a garage adds its own checkpoints."))
    group, name = (group or "").strip(), (name or "").strip()
    if not group or not name:
        raise InvalidInput(_l("Fill in the group and the checkpoint."), field="name")
    if len(group) > 80 or len(name) > 120:
        raise InvalidInput(_l("The group or checkpoint name is too long."), field="name")
    last = max(
        (c.position for c in checklist(session, actor.garage_id) if c.group_name == group),
        default=10_000,
    )
    checkpoint = Checkpoint(
        garage_id=actor.garage_id, group_name=group, name=name, position=last + 1
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def remove_checkpoint(session: Session, checkpoint_id, *, actor: Actor) -> None:
    """Only a garage's own checkpoints go; forms already made keep theirs."""
    checkpoint = scoped_get(session, Checkpoint, checkpoint_id)
    if (
        checkpoint is None
        or checkpoint.garage_id is None
        or checkpoint.garage_id != actor.garage_id
    ):
        raise NotFound(_l("Not found."))
    session.delete(checkpoint)
    session.flush()
