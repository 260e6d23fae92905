"""The "CSV" / "Excel" links of a list screen (issue 15): the screen's query, as FAB builds
it for the page the user sees, handed to services.exports without paging.

A ConsoleModelView gets them by mixing in ExportableList (see services/exports.py for the
steps); a screen that is not FAB's list calls ``export_response`` with its own query.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, abort, redirect, request, stream_with_context, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from admin_app.db import unit_of_work
from admin_app.domain.clock import local_datetime
from admin_app.domain.errors import Gone, NotFound, TooLarge
from admin_app.extensions import db
from admin_app.models.base import utcnow
from admin_app.services import export_files, exports
from admin_app.web.actor import current_actor
from admin_app.web.list_query import checked_ids, screen_query

NO_FILTER = _l("all rows")


class ExportableList:
    """Mixin for a ConsoleModelView: GET <route_base>/export/csv and /export/xlsx."""

    export_list: exports.ExportList
    # Per column, stored value → words, for the filter as the audit log says it.
    export_filter_words: dict = {}

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt):
        if fmt not in exports.FORMATS:
            abort(404)
        query, filters = screen_query(self)
        return export_response(
            self,
            self.export_list,
            query,
            fmt,
            filter_text=filter_words(self, filters),
        )


def filter_words(view, filters) -> str:
    """The request's filters as the user reads them: "Status (Equal to): 'Sent'"."""
    parts = [str(_l("only the ticked rows"))] if checked_ids() else []
    for flt, values in filters.get_filters_values():
        words = view.export_filter_words.get(flt.column_name, {})
        label = view.label_columns.get(flt.column_name, flt.column_name)
        for value in values if isinstance(values, list) else [values]:
            shown = words.get(value, value)
            parts.append(f"{label} ({flt.name}): '{shown}'")
    return "; ".join(parts) or str(NO_FILTER)


def export_response(
    view,
    export: exports.ExportList,
    query,
    fmt: str,
    *,
    filter_text: str,
    back: str | None = None,
    arguments: dict | None = None,
):
    """The file, after one audit entry: CSV streamed, XLSX built here up to
    XLSX_IN_REQUEST rows and by a worker above (a redirect to its progress page); more
    rows than a sheet holds get a page saying so, with the CSV link and ``back`` to the
    screen (the view's list page when not given).

    A screen that is not FAB's list gives the ``arguments`` its query was made of: the
    worker rebuilds it through list_exports.SCREEN_QUERIES, not through the view's list."""
    actor = current_actor()
    rows = exports.count_rows(query)
    # Rows worked out in Python (a list: a fleet's hundreds of cars) are already here, and
    # no worker could work them out again: their file is always written in the request.
    in_background = (
        fmt == exports.XLSX and exports.xlsx_in_background(rows) and not isinstance(query, list)
    )
    if fmt == exports.XLSX:
        try:
            exports.check_xlsx_fits(rows)
        except TooLarge as refused:
            return too_large(view, refused, back), 413
    with unit_of_work(db.session, actor):
        exports.audit_export(
            db.session,
            actor,
            export,
            fmt=fmt,
            filters=filter_text,
            rows=rows,
            garage_id=actor.garage_id,
        )
        if in_background:
            # Too large to build while the browser waits: a worker builds it (the
            # progress page polls), and the file waits in the database for 24 hours.
            file = export_files.start_export_file(
                db.session,
                actor=actor,
                list_name=export.name,
                endpoint=type(view).__name__,
                arguments=(
                    request.query_string.decode("latin-1")
                    if arguments is None
                    else urlencode({k: v for k, v in arguments.items() if v is not None})
                ),
                filter_text=filter_text,
                fmt=fmt,
                rows=rows,
                locale=str(get_locale() or "nl"),
                now=utcnow(),
            )
    if in_background:
        return redirect(url_for("ExportFileView.show", pk=file.id))
    name = exports.file_name(export, fmt, utcnow())
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == exports.CSV:
        chunks = exports.csv_chunks(export, query)
        return Response(
            # Rows worked out in Python (a list: a fleet's cars) are objects of this
            # request's session, which is gone by the time a stream is read: write them now.
            b"".join(chunks)
            if isinstance(query, list)
            else stream_with_context(_closing(chunks, query.session)),
            # content_type: as mimetype, Werkzeug would add its charset to ours once more.
            content_type=exports.CSV_MIMETYPE,
            headers=disposition,
        )
    return Response(
        exports.xlsx_bytes(export, query), mimetype=exports.XLSX_MIMETYPE, headers=disposition
    )


def _closing(chunks, session):
    """The chunks, then the session's connection back to the pool. The request's teardown
    removed the session before the first chunk was read; the stream opened it again, and
    only garbage collection would have closed it: each CSV download held a connection,
    and fifteen exhausted a web process's pool (the next request waited 30 s, then 500)."""
    try:
        yield from chunks
    finally:
        session.close()


def too_large(view, refused: TooLarge, back: str | None = None):
    # The same export route as CSV: also for a screen with several lists (a batch job's
    # rows), or one that is not FAB's list (back then given by the view).
    csv_link = url_for(request.endpoint, **{**request.view_args, "fmt": exports.CSV})
    return view.render_template(
        "console/export_too_large.html",
        title=_l("Too many rows for Excel"),
        message=refused.message,
        csv_link=csv_link + _arguments(),
        back=back or url_for(f"{view.endpoint}.list") + _arguments(),
    )


def _arguments() -> str:
    query = request.query_string.decode("latin-1")
    return f"?{query}" if query else ""


class ExportFileView(BaseView):
    """An export a worker builds: its progress, then its download (issue 15). Only the
    user who asked sees it (services.export_files.get_export_file); others get 404."""

    route_base = "/exports"
    class_permission_name = "ExportFile"
    method_permission_name = {"show": "read", "download": "read"}
    default_view = "show"

    @expose("/<int:pk>")
    @has_access
    def show(self, pk):
        try:
            file = export_files.get_export_file(
                db.session, pk, user_id=current_actor().id, now=utcnow()
            )
        except Gone as gone:
            return self._gone(gone)
        except NotFound:
            abort(404)
        return self.render_template(
            "console/export_file.html",
            title=_l("Export of %(rows)s rows", rows=_count(file.rows)),
            file=file,
            title_of_list=exports.export_titles().get(file.list_name, file.list_name),
            percent=int(100 * file.progress / file.rows) if file.rows else 100,
            expires=local_datetime(file.expires_at),
            progress_text=_l(
                "%(done)s of %(rows)s rows", done=_count(file.progress), rows=_count(file.rows)
            ),
        )

    @expose("/<int:pk>/download")
    @has_access
    def download(self, pk):
        try:
            file = export_files.get_export_file(
                db.session, pk, user_id=current_actor().id, now=utcnow(), with_data=True
            )
        except Gone as gone:
            return self._gone(gone)
        except NotFound:
            abort(404)
        if file.state != "done" or file.data is None:
            return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        name = exports.file_name(exports.export_list(file.list_name), exports.XLSX, file.created_at)
        return Response(
            file.data,
            mimetype=exports.XLSX_MIMETYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def _gone(self, gone: Gone):
        return (
            self.render_template(
                "console/export_file.html", title=_l("Export removed"), gone=gone.message
            ),
            410,
        )


def _count(number: int) -> str:
    return f"{number:,}".replace(",", ".")
