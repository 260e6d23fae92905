"""Customer lists on screen: upload, preview, "Mijn batch jobs" (R-BJ-1…5), and
"Onjuiste e-mails" (R-BJ-7)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin_app.db import unit_of_work
from admin_app.extensions import db
from admin_app.models import BatchJob, Passport
from admin_app.models.batch_jobs import BATCH_STATE_LABELS, ROW_LABELS, BatchState, RowPlan
from admin_app.scope import scoped_get
from admin_app.services import batch_jobs, bounces, customer_lists, exports, vehicle_values
from admin_app.services import passports as passport_rules
from admin_app.services.labels import PASSPORT_LABELS
from admin_app.services.list_exports import BATCH_JOB_EXPORT, BATCH_ROW_EXPORT
from admin_app.views.base import ConsoleModelView
from admin_app.views.exports import ExportableList, export_response
from admin_app.views.formatting import display_value
from admin_app.views.forms import ConfirmForm, EmailForm, UploadForm, submitted
from admin_app.web.actor import current_actor
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE

# The counts have the plans' keys, done or not (R-BJ-5).
COUNT_LABELS = {plan.value: ROW_LABELS[plan.value] for plan in RowPlan}


def progress_bar(progress: dict) -> Markup:
    total, done = progress.get("total") or 0, progress.get("done") or 0
    percent = int(100 * done / total) if total else 0
    return Markup(
        '<div class="progress" style="margin:0;min-width:120px"><div class="progress-bar" '
        f'role="progressbar" style="width:{percent}%">{done} / {total}</div></div>'
    )


def counts_text(counts: dict) -> str:
    return ", ".join(f"{(counts or {}).get(key, 0)} {label}" for key, label in COUNT_LABELS.items())


def upload_done(job: BatchJob) -> str:
    """What the upload did, as the page it leads to shows it: a large list is only received
    and is read in the background ("Lijst wordt gelezen"), a small one is read already."""
    if job.state == BatchState.previewing.value:
        return _l(
            "The list is received and is being read: this page shows the progress. "
            "Check the preview and confirm once it is read."
        )
    return _l("The list is read: check the preview and confirm.")


class BatchJobView(ExportableList, ConsoleModelView):
    route_base = "/batch-jobs"
    class_permission_name = "BatchJob"
    method_permission_name = {
        **READ_WRITE,
        "upload": "write",
        "confirm": "write",
        "cancel": "write",
        "run_now": "run_now",
        "refused": "read",
        "template": "read",
    }
    include_route_methods = {
        "list",
        "show",
        "upload",
        "confirm",
        "cancel",
        "run_now",
        "refused",
        "template",
        "export",
        "rows_export",
    }
    datamodel = SQLAInterface(BatchJob)
    list_template = "console/list_export.html"
    export_list = BATCH_JOB_EXPORT
    export_filter_words = {"state": BATCH_STATE_LABELS}
    list_title = _l("My batch jobs")
    show_title = _l("Batch job")
    show_template = "console/batch_job_show.html"
    list_columns = ["filename", "uploader_name", "uploaded_at", "state_label", "progress", "counts"]
    show_columns = list_columns + ["scheduled_for", "send_to_customers", "finished_at"]
    label_columns = {
        "filename": _l("File"),
        "uploaded_by": _l("Who"),
        "uploader_name": _l("Who"),
        "uploaded_at": _l("When"),
        "state_label": _l("State"),
        "state": _l("State"),
        "progress": _l("Progress"),
        "counts": _l("Counts"),
        "scheduled_for": _l("Runs at"),
        "send_to_customers": _l("Send the passports to the customers"),
        "finished_at": _l("Finished"),
    }
    formatters_columns = {"progress": progress_bar, "counts": counts_text}
    base_order = ("id", "desc")
    search_columns = ["state"]

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        outcome = request.args.get("outcome") or None
        widgets["job"] = item
        widgets["outcome"] = outcome
        page = request.args.get("page", "")
        # Any page number a person can type: text or nothing is the first page (isdecimal:
        # "²" is a digit int() refuses).
        rows_page = batch_jobs.job_rows_page(
            db.session, item, outcome=outcome, page=int(page) if page.isdecimal() else 1
        )
        widgets["rows_page"] = rows_page
        widgets["rows"] = rows_page.rows
        # Issue 18: which of each row's car fields the vehicle register fills in.
        widgets["register_fills"] = {
            row_id: ", ".join(str(PASSPORT_LABELS[name]) for name in names)
            for row_id, names in vehicle_values.register_fills_of_rows(
                db.session, rows_page.rows
            ).items()
        }
        widgets["counts_text"] = counts_text(item.counts)
        widgets["progress_bar"] = progress_bar(item.progress)
        widgets["runs_at"] = display_value(item.scheduled_for)
        return widgets

    @expose("/upload", methods=["GET", "POST"])
    @has_access
    def upload(self):
        form = UploadForm()
        answer = submitted(
            form,
            lambda: batch_jobs.upload_list(
                db.session,
                actor=current_actor(),
                filename=form.file.data.filename,
                data=form.file.data.read(),
                send_to_customers=form.send_to_customers.data,
            ),
            done=upload_done,
            next_url=lambda job: url_for(f"{self.endpoint}.show", pk=job.id),
        )
        return answer or self.render_template(
            "console/upload.html", form=form, title=_l("Upload a customer list")
        )

    @expose("/template.<kind>")
    @has_access
    def template(self, kind):
        if kind == "csv":
            return Response(
                customer_lists.template_csv(),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="klantenlijst.csv"'},
            )
        if kind == "xlsx":
            return Response(
                customer_lists.template_xlsx(),
                mimetype=customer_lists.XLSX_MIMETYPE,
                headers={"Content-Disposition": 'attachment; filename="klantenlijst.xlsx"'},
            )
        abort(404)

    @expose("/<int:pk>/confirm", methods=["POST"])
    @has_access
    def confirm(self, pk):
        return self._act(
            pk,
            lambda: batch_jobs.confirm_job(db.session, pk, actor=current_actor()),
            _l("Confirmed: the list runs tonight at 01:00."),
        )

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk):
        return self._act(
            pk,
            lambda: batch_jobs.cancel_job(db.session, pk, actor=current_actor()),
            _l("The batch job is cancelled."),
        )

    @expose("/<int:pk>/run_now", methods=["POST"])
    @has_access
    def run_now(self, pk):
        answer = self._act(
            pk,
            lambda: batch_jobs.run_now(db.session, pk, actor=current_actor()),
            _l("The batch job starts now."),
        )
        with unit_of_work(db.session):  # queued once the claim to queue it commits
            batch_jobs.queue_due_jobs(db.session)
        return answer

    def _act(self, pk, action, done):
        scoped_or_404(BatchJob, pk)
        answer = submitted(
            ConfirmForm(), action, done=done, next_url=url_for(f"{self.endpoint}.show", pk=pk)
        )
        if answer is None:
            return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        return answer

    @expose("/<int:pk>/rows/export/<fmt>")
    @has_access
    def rows_export(self, pk, fmt):
        """The job's rows as its page lists them, all pages, of the tab's outcome."""
        job = scoped_get(db.session, BatchJob, pk)
        if job is None or fmt not in exports.FORMATS:
            abort(404)
        outcome = request.args.get("outcome") or None
        if outcome is not None and outcome not in ROW_LABELS:
            abort(404)
        words = _l("Batch job %(file)s", file=job.filename)
        if outcome:
            words = f"{words}; {_l('Outcome')}: {ROW_LABELS[outcome]}"
        return export_response(
            self,
            BATCH_ROW_EXPORT,
            batch_jobs.job_rows_query(db.session, job, outcome=outcome),
            fmt,
            filter_text=str(words),
            back=url_for(f"{self.endpoint}.show", pk=pk, outcome=outcome),
            arguments={"job": job.id, "outcome": outcome},
        )

    @expose("/<int:pk>/refused.xlsx")
    @has_access
    def refused(self, pk):
        job = scoped_or_404(BatchJob, pk)
        return Response(
            batch_jobs.refused_rows_xlsx(db.session, job),
            mimetype=customer_lists.XLSX_MIMETYPE,
            headers={"Content-Disposition": f'attachment; filename="geweigerd-{job.id}.xlsx"'},
        )


class InvalidEmailsView(ConsoleModelView):
    """ "Onjuiste e-mails (N)": passports whose owner's address bounced (R-BJ-7)."""

    route_base = "/invalid-emails"
    class_permission_name = "InvalidEmails"
    method_permission_name = {**READ_WRITE, "fix": "read"}
    include_route_methods = {"list", "fix"}
    datamodel = SQLAInterface(Passport)
    list_template = "console/invalid_emails.html"
    base_filters = [["state", FilterNotEqual, "archived"]]
    list_columns = ["plate_label", "owner_name", "owner_email", "state", "garage"]
    page_size = 100

    @expose("/list/")
    @has_access
    def list(self):
        self.update_redirect()
        return self._list_page()

    def _list_page(self, typed: dict | None = None):
        """The list; ``typed`` holds a refused correction (its row shows the address as
        typed and why it was refused, issue 14)."""
        passports = bounces.invalid_email_passports(db.session)
        return self.render_template(
            self.list_template,
            passports=passports,
            csrf_form=ConfirmForm(),
            typed=typed or {},
            title=_l("Incorrect e-mails (%(count)s)", count=len(passports)),
        )

    @expose("/<int:pk>/fix", methods=["POST"])
    @has_access
    def fix(self, pk):
        """Correct the address (R-PP-7 applies) and, when asked, resend at once."""
        passport = scoped_or_404(Passport, pk)
        form = EmailForm()

        def correct():
            passport_rules.change_owner_email(
                db.session, pk, form.email.data, actor=current_actor()
            )
            if form.resend.data and passport.state in ("created", "sent"):
                passport_rules.send_passport(db.session, pk, actor=current_actor())

        answer = submitted(
            form,
            correct,
            done=_l("The e-mail address is corrected."),
            next_url=url_for(f"{self.endpoint}.list"),
        )
        if answer:
            return answer
        for field in form:
            for error in field.errors:
                flash(f"{passport.plate_display}: {error}", "danger")
        # The list again, the address as typed in its row: nothing typed is lost.
        return self._list_page({pk: form.email.data or ""}), 422
