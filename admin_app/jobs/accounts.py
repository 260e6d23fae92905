"""Logins' jobs: the worker's half of "forgot password" (R-SEC-3)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from admin_app.extensions import db


def mail_password_reset(identifier: str) -> None:
    """Look the name up and queue its reset mail (at most one per login per 15 minutes).

    The form only enqueues this: the request takes as long for a name nobody has."""
    from admin_app.db import unit_of_work
    from admin_app.services import accounts
    from admin_app.services.audit import Actor

    interval = timedelta(minutes=current_app.config["RESET_MAIL_INTERVAL_MINUTES"])
    with unit_of_work(db.session, Actor.job("password-reset")):
        accounts.request_password_reset(db.session, identifier, interval=interval)
