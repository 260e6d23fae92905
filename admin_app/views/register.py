"""Admin's vehicle register (issue 18): upload a register file, follow its import.

Thin: the file is saved as it streams in (up to 200 MB; larger with `flask
register-import`), services/register_import checks its header and queues it, and the
worker imports it; the pages show each import in words, times in Dutch time.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import abort, current_app, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from admin_app.domain.clock import local_datetime
from admin_app.extensions import db
from admin_app.models.register import DATASET_LABELS, IMPORT_STATE_LABELS, RegisterImport
from admin_app.services import register_import, register_refresh
from admin_app.services.audit import actor_name
from admin_app.services.units import file_size
from admin_app.views.forms import attempt, said_expired
from admin_app.web.actor import current_actor

LISTED = 30  # the newest imports on the page; older ones stay in the audit log


class RegisterUploadForm(FlaskForm):
    file = FileField(_l("Register file (.csv, up to 200 MB)"), validators=[FileRequired()])


def number(value: int | None) -> str:
    return f"{value or 0:,}".replace(",", ".")


def import_words(run: RegisterImport) -> str:
    """What an import did or is doing, as a sentence."""
    # After the state ("imported"), so not "imported: 78 rows imported."
    if run.state == "done":
        text = _l("%(rows)s rows in the register.", rows=number(run.rows))
        if run.kept:
            text = _l(
                "%(rows)s rows in the register; %(kept)s plates missing from this file keep "
                "what was known of them.",
                rows=number(run.rows),
                kept=number(run.kept),
            )
    elif run.state == "running":
        text = _l("%(rows)s rows read so far.", rows=number(run.rows))
    elif run.state == "queued":
        text = _l("Waiting for the worker.")
    else:
        text = register_import.reason_text(run) or ""
    if run.skipped:
        return f"{text} " + str(
            _l("%(count)s rows without plate or reference skipped.", count=number(run.skipped))
        )
    return str(text)


def refresh_words(config, run) -> list[str]:
    """The nightly refresh from RDW's API in sentences: off, not yet run, or what the last
    night's run asked, found and could not refresh, times in Dutch time."""
    if not config.get("RDW_API_URL"):
        return [
            str(
                _l(
                    "Off: the server's settings name no address of RDW's API. To switch it "
                    "on, set RDW_API_URL in the server's settings, with an app token in "
                    "RDW_APP_TOKEN (free from opendata.rdw.nl, so RDW throttles less); it "
                    "then runs every night from %(hour)s:00. Until then, imported files keep "
                    "the register current.",
                    hour=f"{register_refresh.RUN_HOUR:02d}",
                )
            )
        ]
    if run is None:
        return [
            str(
                _l(
                    "On, not run yet: it runs every night from %(hour)s:00.",
                    hour=f"{register_refresh.RUN_HOUR:02d}",
                )
            )
        ]
    words = [
        str(
            _l(
                "Last refresh: started %(started)s, ended %(finished)s.",
                started=local_datetime(run.started_at),
                finished=local_datetime(run.finished_at),
            )
            if run.finished_at
            else _l(
                "Last refresh: started %(started)s, still running.",
                started=local_datetime(run.started_at),
            )
        ),
        str(
            _l(
                "%(plates)s plates asked, %(found)s of them known to RDW and brought up to date.",
                plates=number(run.plates),
                found=number(run.found),
            )
        ),
    ]
    stopped = register_refresh.stopped_reason(run)
    if stopped:
        words.append(str(_l("Stopped. %(reason)s", reason=stopped)))
    if run.failed:
        words.append(
            str(
                _l(
                    "%(count)s plates not refreshed: they are asked again the next night.",
                    count=number(run.failed),
                )
            )
        )
    return words


def percent(run: RegisterImport) -> int:
    if run.state == "done":
        return 100
    return int(100 * run.read_bytes / run.size_bytes) if run.size_bytes else 0


class RegisterView(BaseView):
    """Admin only: no role but Admin holds VehicleRegister (roles.py gives Admin all)."""

    route_base = "/register"
    class_permission_name = "VehicleRegister"
    method_permission_name = {"index": "read", "show": "read", "upload": "write"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self._page(RegisterUploadForm())

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self):
        form = RegisterUploadForm()
        if not form.validate_on_submit():
            # As every console form: the file field says what it lacks, a flash an expired page.
            said_expired(form)
            return self._page(form), 400
        folder = Path(current_app.config["REGISTER_UPLOAD_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.csv"
        form.file.data.save(path)  # streams to disk: the file never sits in memory whole
        answer = attempt(
            lambda: register_import.queue_import(
                db.session,
                path=path,
                file_name=form.file.data.filename or path.name,
                actor=current_actor(),
            ),
            done=_l("The file is received; the worker imports it. This page shows how far it is."),
            next_url=lambda run: url_for(".show", pk=run.id),
            form=form,
            on_refusal=lambda error: path.unlink(missing_ok=True),
        )
        return answer or (self._page(form), 422)

    @expose("/<int:pk>")
    @has_access
    def show(self, pk):
        run = db.session.get(RegisterImport, pk)
        if run is None:
            abort(404)
        return self.render_template(
            "console/register_import.html",
            title=_l("Import of %(file)s", file=run.file_name),
            run=run,
            dataset=DATASET_LABELS.get(run.dataset, ""),
            state=IMPORT_STATE_LABELS[run.state],
            words=import_words(run),
            percent=percent(run),
            busy=run.state in ("queued", "running"),
            who=actor_name,
            size=file_size,
        )

    def _page(self, form):
        runs = db.session.scalars(
            select(RegisterImport).order_by(RegisterImport.id.desc()).limit(LISTED)
        ).all()
        return self.render_template(
            "console/register.html",
            title=_l("Vehicle register"),
            form=form,
            runs=runs,
            datasets=DATASET_LABELS,
            states=IMPORT_STATE_LABELS,
            words=import_words,
            percent=percent,
            busy=any(run.state in ("queued", "running") for run in runs),
            who=actor_name,
            max_mb=current_app.config["REGISTER_UPLOAD_MAX_BYTES"] // (1024 * 1024),
            refresh=refresh_words(current_app.config, register_refresh.last_refresh(db.session)),
        )


def allow_large_register_files(app) -> None:
    """The register's upload takes up to 200 MB, every other request MAX_CONTENT_LENGTH.
    First among the request hooks: CSRF's check reads the form, and with it the body."""

    def larger_limit():
        if request.endpoint == "RegisterView.upload":
            request.max_content_length = app.config["REGISTER_UPLOAD_MAX_BYTES"]

    app.before_request_funcs.setdefault(None, []).insert(0, larger_limit)
