"""Who is asking: the same person (or API key) for the screens and the REST API."""

from __future__ import annotations

from flask import g

from admin_app.services.audit import Actor


def current_actor() -> Actor:
    """The logged-in user as the services see him (roles, garage, fleet account); a
    garage's API key by its own name (issue 16, api/keys)."""
    return g.get("key_actor") or Actor.of_user(g.user)
