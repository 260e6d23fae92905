"""Ending a login's sessions (R-SEC-3): one number on the user, in every cookie and JWT.

A session cookie holds ``id:generation`` (ConsoleUser.get_id) and a JWT a ``gen`` claim;
both load the user only while the number is still his. Raising it ends every session
and token issued before, on every web process at once, without a list of sessions to
keep: a new password, a new e-mail, a disabled login and a logout each raise it,
whichever screen, API, link or command made the change.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import InstanceState, Session

from admin_app.models import ConsoleUser

# A change of any of these ends the login's sessions.
ENDING_CHANGES = ("password", "email", "active")


def end_sessions(user: ConsoleUser) -> None:
    """Every cookie and JWT of ``user`` issued so far stops working."""
    user.session_generation = (user.session_generation or 0) + 1


def is_current(user: ConsoleUser | None, generation) -> bool:
    """Whether a cookie or token made at ``generation`` still holds for ``user``."""
    if user is None or not user.is_active:
        return False
    try:
        return int(generation) == (user.session_generation or 0)
    except (TypeError, ValueError):
        return False


def _raise_on_change(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if not isinstance(obj, ConsoleUser):
            continue
        state: InstanceState[ConsoleUser] = inspect(obj)
        if state.attrs.session_generation.history.has_changes():
            continue
        if any(state.attrs[name].history.has_changes() for name in ENDING_CHANGES):
            end_sessions(obj)


def install(session_class=Session) -> None:
    if not event.contains(session_class, "before_flush", _raise_on_change):
        event.listen(session_class, "before_flush", _raise_on_change)
