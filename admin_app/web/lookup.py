"""A tenant row a screen names by id: the one way to read it, or 404 (issue 20).

Another garage's row is not "forbidden" but "not found" (R-SEC-1): a 403 would tell a
guessing garage that the id exists.
"""

from __future__ import annotations

from flask import abort

from admin_app.extensions import db
from admin_app.scope import scoped_get


def scoped_or_404(model, ident):
    """The row of ``model`` with id ``ident`` if the current scope holds it; else the
    request ends in 404."""
    row = scoped_get(db.session, model, ident)
    if row is None:
        abort(404)
    return row
