"""Roles as FAB's security screens and API may change them (issue 13)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_appbuilder.security.sqla.models import Role
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden
from admin_app.roles import BUILTIN_ROLES


def check_roles_changeable(session: Session, role_ids: Iterable[int]) -> None:
    """Refuses (Forbidden) any change to a built-in role — renaming, deleting, editing its
    permissions, its members wholesale, or an action on it: the code and `flask sync-roles`
    define them (admin_app/roles.py), and renaming FleetManager would lock every fleet
    manager out. Custom roles pass; unknown ids pass too (the caller answers 404)."""
    ids = list(role_ids)
    if not ids:
        return
    names = session.scalars(select(Role.name).where(Role.id.in_(ids))).all()
    builtin = sorted(BUILTIN_ROLES.intersection(names))
    if builtin:
        raise Forbidden(
            _l(
                "%(names)s is a built-in role: it cannot be renamed, deleted or changed "
                "here. `flask sync-roles` sets its permissions; make a new role for "
                "anything else.",
                names=", ".join(builtin),
            )
        )
