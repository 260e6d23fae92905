"""Downloading an export: only the requester, only while its days last; each download is
audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Gone, NotFound
from admin_app.models import DataExport
from admin_app.models.data_exports import READY
from admin_app.services.audit import Actor, record_bulk
from admin_app.services.data_exports.asking import AUDIT_TABLE, audited_ids

NOT_READY = _l("The export is not ready: it is still being made, or it failed.")


def get_own_export(session: Session, export_id, *, user_id: int, now: dt.datetime) -> DataExport:
    """The user's own export; NotFound for anyone else's (even a colleague's at the same
    garage) or none, Gone once its days are over."""
    export = session.scalars(
        select(DataExport).where(
            DataExport.id == _id(export_id), DataExport.requested_by_id == user_id
        )
    ).first()
    if export is None:
        raise NotFound(_l("Not found."))
    if export.expires_at <= now:
        raise Gone(
            _l(
                "This export was kept for 7 days and has been deleted. Ask for a new "
                "export for a fresh file."
            )
        )
    return export


def download(
    session: Session, export_id, *, actor: Actor, folder: str, now: dt.datetime
) -> tuple[DataExport, Path] | tuple[DataExport, None]:
    """The requester's ready ZIP and its path, audited (each download); the export
    without a path while it is still being made or failed. Flushes."""
    if actor.id is None:  # a job, not a person: it requested no export
        raise NotFound(_l("Not found."))
    export = get_own_export(session, export_id, user_id=actor.id, now=now)
    path = zip_path(folder, export)
    if export.state != READY or path is None or not path.is_file():
        return export, None
    record_bulk(
        session,
        actor,
        AUDIT_TABLE,
        [("download", export.id, audited_ids(export))],
        garage_id=export.garage_id,
    )
    return export, path


def file_name(export: DataExport) -> str:
    return f"gegevens-{export.id}-{export.created_at.strftime('%Y%m%d')}.zip"


def zip_path(folder: str, export: DataExport) -> Path | None:
    """Where the export's ZIP lies under ``folder``; None when it has none (not built, purged)."""
    return Path(folder) / export.file_path if export.file_path else None


def _id(value) -> int:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return 0
    return ident if 0 < ident < 2**31 else 0
