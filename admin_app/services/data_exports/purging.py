"""Purging exports: the files past their days (the retention job and every build sweep),
and every export about a person who is erased (R-DR-2).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from admin_app.models import DataExport
from admin_app.models.data_exports import BUILDING, FAILED
from admin_app.services.data_exports.downloading import zip_path


def delete_expired_exports(session: Session, now: dt.datetime, folder: str | None = None) -> int:
    """Delete the files of exports past their days (the rows stay, ids only, so a link
    says "deleted" rather than "not found"). Returns how many files went. Flushes; the
    build job and the retention job call it."""
    if folder is None:
        from flask import current_app

        folder = current_app.config["DATA_EXPORT_FOLDER"]
    expired = session.scalars(
        select(DataExport).where(DataExport.expires_at <= now, DataExport.file_path.is_not(None))
    ).all()
    for export in expired:
        path = zip_path(folder, export)
        if path is not None and path.exists():
            path.unlink()
        export.file_path = None
    session.flush()
    return len(expired)


def forget_exports_about(
    session: Session, customer_ids: list[int], user_id: int | None, now: dt.datetime
) -> int:
    """Erasure (R-DR-2): the exports about erased customer rows (or an erased Owner's own)
    lose their ZIP, which holds everything he was. The files go once the erase commits:
    an erase that fails leaves them. Returns how many."""
    from flask import current_app
    from sqlalchemy import event

    about: list[ColumnElement[bool]] = [DataExport.customer_id.in_(customer_ids)]
    if user_id is not None:
        about.append(DataExport.owner_user_id == user_id)
    # One still being made read him before this erase, maybe: it fails, and its build
    # throws its file away (finish).
    exports = session.scalars(
        select(DataExport).where(
            or_(*about), or_(DataExport.file_path.is_not(None), DataExport.state == BUILDING)
        )
    ).all()
    if not exports:
        return 0
    folder = current_app.config["DATA_EXPORT_FOLDER"]
    paths = [zip_path(folder, export) for export in exports if export.file_path]
    for export in exports:
        if export.state == BUILDING:
            export.state = FAILED
        export.file_path = None
        export.expires_at = min(export.expires_at, now)

    @event.listens_for(session, "after_commit", once=True)
    def _delete_files(_session):
        for path in paths:
            path.unlink(missing_ok=True)

    session.flush()
    return len(exports)
