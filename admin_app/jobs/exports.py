"""rq entry for an export too large for a request (issue 15): takes an id, reruns the
list screen's query as the user who asked, keeps the file in the database."""

from __future__ import annotations

import logging
import tempfile
from typing import Any
from urllib.parse import parse_qsl

from flask import current_app
from flask_babel import force_locale

from admin_app.extensions import db
from admin_app.jobs.progress import progress_reporter
from admin_app.models import ConsoleUser, ExportFile
from admin_app.models.base import utcnow
from admin_app.services import export_files, exports, list_exports

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10_000


def build_export_file(file_id: int) -> None:
    """Safe to run twice: a file that is done or expired is left alone."""
    claimed = export_files.mark_running(db.session, file_id)
    db.session.commit()  # the claim holds however long the build takes
    if not claimed:
        return
    file = db.session.get(ExportFile, file_id)
    try:
        data, rows = _build(file)
    except Exception as exc:
        db.session.rollback()
        log.exception("export %s failed", file_id)
        export_files.fail(db.session, file_id, str(exc), utcnow())
        db.session.commit()
        raise
    db.session.rollback()  # the read transaction; the file is written in a fresh one
    export_files.finish(db.session, file_id, data, rows, utcnow())
    db.session.commit()


def _build(file: ExportFile) -> tuple[bytes, int]:
    from admin_app.scope import bind_request_scope
    from admin_app.web.list_query import screen_query

    app: Any = current_app  # FAB hangs `appbuilder` on it, which Flask's type does not know
    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == file.endpoint)
    user_id, file_id, locale = file.user_id, file.id, file.locale
    # The screen's request, as the user who asked made it: his scope, his filters.
    with app.test_request_context(f"/?{file.arguments}"), force_locale(locale):
        user = db.session.get(ConsoleUser, user_id)
        bind_request_scope(user)
        screen = list_exports.SCREEN_QUERIES.get(file.list_name)
        if screen is None:  # FAB's list: its filters, order and base filters
            query, _ = screen_query(view)
            export = view.export_list
        else:  # a screen of its own: the view's list would be another list
            export, rows_of = screen
            query = rows_of(db.session, dict(parse_qsl(file.arguments)))
        with (
            progress_reporter(
                db.engine, lambda s, done: export_files.set_progress(s, file_id, done)
            ) as progress,
            tempfile.TemporaryFile() as out,
        ):
            rows = exports.write_xlsx(
                export,
                exports.xlsx_rows(export, query),
                out,
                progress=progress,
                every=PROGRESS_EVERY,
            )
            out.seek(0)
            return out.read(), rows
