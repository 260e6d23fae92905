"""rq entry for a customer's data export (issue 19, R-DR-1): takes an id, gathers his data
unscoped (the export names whose), streams the ZIP to DATA_EXPORT_FOLDER."""

from __future__ import annotations

import logging

from flask import current_app

from admin_app.extensions import db
from admin_app.jobs.progress import progress_reporter
from admin_app.models.base import utcnow
from admin_app.services import data_exports, printing

log = logging.getLogger(__name__)


def build_data_export(export_id: int) -> None:
    """Claimed once: a second delivery of the job leaves a built or building export alone."""
    from admin_app.scope import unscoped

    claimed = data_exports.claim(db.session, export_id, utcnow())
    db.session.commit()  # the claim holds however long the build takes
    if not claimed:
        return
    # current_app is a LocalProxy, but Flask types it as the app itself.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    folder = app.config["DATA_EXPORT_FOLDER"]
    try:
        # A request context for the templates (the summary, the forms' PDFs); unscoped,
        # as the export itself says whose data it holds.
        with (
            app.test_request_context("/"),
            unscoped(),
            progress_reporter(
                db.engine, lambda s, percent: data_exports.set_progress(s, export_id, percent)
            ) as progress,
        ):
            name = data_exports.write_export(
                db.session, export_id, folder, with_pdfs=printing.available(), progress=progress
            )
    except Exception:
        db.session.rollback()
        log.exception("data export %s failed", export_id)
        data_exports.fail(db.session, export_id)
        db.session.commit()
        raise
    db.session.rollback()  # the reading transaction; the result is written in a fresh one
    data_exports.finish(db.session, export_id, name, utcnow(), folder)
    # Whoever builds sweeps too: expired files go even without the retention job.
    data_exports.delete_expired_exports(db.session, utcnow(), folder)
    db.session.commit()
