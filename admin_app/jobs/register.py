"""rq entry for a vehicle-register import (issue 18); `flask register-import` runs the same
service function in its own process."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from admin_app.extensions import db
from admin_app.models import RegisterImport
from admin_app.services import register_import


def import_register(import_id: int) -> None:
    """Safe to run twice: only the first claim of a queued import runs it."""
    try:
        register_import.run_import(db.session, import_id)  # logs a failure itself
    finally:
        db.session.rollback()
        _forget_upload(db.session.get(RegisterImport, import_id))


def _forget_upload(run: RegisterImport | None) -> None:
    """An uploaded file is removed once imported (it may be 200 MB); a file given to the
    command is not the console's to remove."""
    if run is None or run.state in ("queued", "running"):
        return
    folder = Path(current_app.config["REGISTER_UPLOAD_FOLDER"]).resolve()
    path = Path(run.path).resolve()
    if folder in path.parents:
        path.unlink(missing_ok=True)


def refresh_register(refresh_id: int) -> None:
    """A night's refresh from RDW's API, claimed by the clock; safe to run twice."""
    from admin_app.services.register_refresh import RdwApi, run_refresh

    api = RdwApi.from_config(current_app.config)
    if api is None:  # switched off between the claim and now
        return
    try:
        run_refresh(db.session, refresh_id, api)  # logs a failure itself
    finally:
        db.session.rollback()
