"""Bulk actions on the passport list and the "Taken" page (issue 15).

The list's checkboxes (or "all that match the filter") lead to a confirmation page per
action that states the count; confirmed, a task is stored and run (services/tasks.py) and
its page shows each row's outcome.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_filter_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from admin_app.extensions import db
from admin_app.models import Passport, Task
from admin_app.models.passports import STATE_LABELS
from admin_app.models.tasks import RowOutcome, TaskKind, TaskState
from admin_app.services import tasks
from admin_app.services.labels import PASSPORT_LABELS
from admin_app.views.base import ConsoleModelView
from admin_app.views.batch_jobs import progress_bar
from admin_app.views.forms import ConfirmForm, attempt
from admin_app.web.actor import current_actor
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE

BULK_TITLES = {
    TaskKind.send.value: _l("Send passports to their customers"),
    TaskKind.archive.value: _l("Archive passports"),
    TaskKind.link.value: _l("Link passports to a fleet account"),
    TaskKind.unlink.value: _l("Unlink passports from their fleet account"),
}
BULK_BUTTONS = {
    TaskKind.send.value: _l("Send"),
    TaskKind.archive.value: _l("Archive"),
    TaskKind.link.value: _l("Link to a fleet account"),
    TaskKind.unlink.value: _l("Unlink from the fleet account"),
}
# The FAB permission (on "Passport") each bulk kind needs: the one its single action needs.
BULK_PERMISSIONS = {
    TaskKind.send.value: "can_send",
    TaskKind.archive.value: "can_archive",
    TaskKind.link.value: "can_write",
    TaskKind.unlink.value: "can_write",
}
OUTCOME_LABELS = {
    RowOutcome.done.value: _l("done"),
    RowOutcome.refused.value: _l("not done"),
    RowOutcome.pending.value: _l("waiting"),
}


def bulk_bar(view, pks: list) -> dict:
    """What the passport list offers for its checkboxes: the kinds the role may take (its
    permissions, then the rules' answer for the page's passports)."""
    sm = view.appbuilder.sm
    permitted = [k for k, perm in BULK_PERMISSIONS.items() if sm.has_access(perm, "Passport")]
    if not permitted or not pks:
        # A role without bulk actions (a fleet manager) keeps the plain list and its
        # CSV / Excel links.
        return {"kinds": []}
    # Exporting the ticked rows (or all that match) is the list's own export.
    exports = [
        (label, url_for(f"{view.endpoint}.export", fmt=fmt))
        for fmt, label in (("csv", _l("Export as CSV")), ("xlsx", _l("Export as Excel")))
    ]
    filters = [(k, v) for k, v in request.args.items(multi=True) if k.startswith("_flt_")]
    # The list has just loaded these rows under the scope: the identity map answers
    # without SQL (a SELECT here cost the page statements that grew with its rows).
    passports = [db.session.get(Passport, pk) for pk in pks]
    offered = set(tasks.offered_kinds(db.session, current_actor(), [p for p in passports if p]))
    return {
        "kinds": [(k, BULK_BUTTONS[k]) for k in permitted if k in offered],
        "exports": exports,
        "filters": filters,
    }


class BulkListWidget(ListWidget):
    """FAB's list with a checkbox per row and the bulk bar above it."""

    template = "console/passport_list_widget.html"


class BulkForm(FlaskForm):
    """The confirmation: CSRF, plus what the page asked (the count typed, a fleet account)."""


def bulk_page(view, kind: str):
    """GET: the confirmation page with the count; POST: store and run the task."""
    ids, every = selection_ids(view)
    back = url_for(f"{view.endpoint}.list") + _filter_query()
    if not ids:
        flash(str(_l("Select at least one passport.")), "warning")
        return redirect(back)
    count = len(ids)
    selection = selection_made(view, every, count)
    actor = current_actor()
    fleets_ = tasks.garage_fleets(db.session, actor) if kind == TaskKind.link.value else []
    typed = request.form.get("typed_count", "")
    fleet_id = request.form.get("fleet_account_id", "")
    error, status = None, 200
    if request.method == "POST":
        if not BulkForm().validate_on_submit():
            error, status = _l("The page had expired; please try again."), 400
        else:
            refusal = {}

            def confirmed_task():
                tasks.check_confirmation(
                    kind, count, confirmed=request.form.get("count"), typed=typed
                )
                task = tasks.create_task(
                    db.session,
                    kind,
                    ids,
                    actor=actor,
                    selection=selection,
                    fleet_account_id=fleet_id or None,
                )
                return tasks.start(db.session, task, actor=actor)

            answer = attempt(
                confirmed_task,
                done=_started,
                next_url=lambda task: url_for("TaskView.show", pk=task.id),
                on_refusal=lambda refused: refusal.update(status=refused.status),
            )
            if answer is not None:
                return answer
            status = refusal["status"]  # the reason is flashed; what was typed stays
    return view.render_template(
        "console/bulk_confirm.html",
        title=BULK_TITLES[kind],
        kind=kind,
        count=count,
        every=every,
        ids=[] if every else ids,
        words=describe_selection(selection),
        asks_count=tasks.asks_typed_count(kind, count),
        typed=typed,
        fleets=fleets_,
        fleet_id=fleet_id,
        error=error,
        back=back,
        in_background=count > tasks.IN_REQUEST_LIMIT,
        button=BULK_BUTTONS[kind],
    ), status


def _started(task: Task) -> str:
    if task.state == TaskState.done.value:
        return _l("Done: see what happened to each passport.")
    return _l("The task runs in the background; this page shows its progress.")


def selection_ids(view) -> tuple[list[int], bool]:
    """The selected ids in the caller's scope: the checked ones, or every passport the
    list's current filter matches ("all N that match")."""
    every = request.values.get("all") == "1"
    if not every:
        return tasks.in_scope(db.session, request.values.getlist("id")), False
    get_filter_args(view._filters)
    joined = view._filters.get_joined_filters(view._base_filters)
    query = view.datamodel.apply_filters(db.session.query(Passport.id), joined)
    return sorted(pk for (pk,) in query), True


def selection_made(view, every: bool, count: int) -> dict:
    """The selection as stored with the task: the list's filter as the user set it (after
    selection_ids read it), or only the count of the rows he checked."""
    if not every:
        return {"count": count}
    # With the filter's operator: "not equal to Archived" read as "Archived" without it.
    filters = [
        [
            flt.column_name,
            " ".join(values) if isinstance(values, list) else str(values),
            flt.arg_name,
        ]
        for flt, values in view._filters.get_filters_values()
    ]
    return {"all": True, "count": count, "filters": filters}


def describe_selection(selection: dict | None) -> str:
    """A task's selection in the reader's language: "All 120 that match: Status: Niet
    verzonden" — the filter's words, never FAB's "Gelijk aan" or a raw state."""
    from admin_app.views.passports import FilterPlateNameOrEmail

    selection = selection or {}
    count = selection.get("count", 0)
    if selection.get("undo_of"):
        # Not the earlier task's number: no screen shows it (the undo's page links it).
        return str(_l("%(count)s archived by an earlier task", count=count))
    if not selection.get("all"):
        return str(_l("%(count)s selected", count=count))
    parts = []
    for column, value, *operator in selection.get("filters") or []:
        if column == "state" and operator == [FilterNotEqual.arg_name]:
            parts.append(
                str(
                    _l(
                        "%(field)s is not %(value)s",
                        field=PASSPORT_LABELS["state"],
                        value=STATE_LABELS.get(value, value),
                    )
                )
            )
        elif column == "state":
            parts.append(f"{PASSPORT_LABELS['state']}: {STATE_LABELS.get(value, value)}")
        else:
            parts.append(f"{FilterPlateNameOrEmail.name}: {value}")
    if not parts:
        return str(_l("All %(count)s passports", count=count))
    if count == 1:  # not "All 1 that match"
        return str(_l("The one passport that matches: %(filter)s", filter="; ".join(parts)))
    return str(_l("All %(count)s that match: %(filter)s", count=count, filter="; ".join(parts)))


def _filter_query() -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k.startswith("_flt_")]
    return "?" + urlencode(args) if args else ""


class TaskView(ConsoleModelView):
    """ "Taken": the bulk tasks of the user's garage (Support and Admin: all)."""

    route_base = "/tasks"
    class_permission_name = "Task"
    method_permission_name = {**READ_WRITE, "undo": "write"}
    include_route_methods = {"list", "show", "undo"}
    datamodel = SQLAInterface(Task)
    list_title = _l("Tasks")
    show_title = _l("Task")
    show_template = "console/task_show.html"
    list_columns = [
        "kind_label",
        "selection",
        "creator_name",
        "created_at",
        "state_label",
        "progress",
    ]
    show_columns = list_columns + ["finished_at"]
    label_columns = {
        "kind_label": _l("Action"),
        "selection": _l("Selection"),
        "creator_name": _l("Who"),
        "created_at": _l("When"),
        "state_label": _l("State"),
        "progress": _l("Progress"),
        "finished_at": _l("Finished"),
    }
    formatters_columns = {"progress": progress_bar, "selection": describe_selection}
    # FAB offered "progress" (a property) and "selection" (free text) for sorting too.
    order_columns = ["created_at"]
    # Tasks are found by when they were started; FAB's default offered every column.
    search_columns = ["created_at"]
    base_order = ("id", "desc")

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        outcome = request.args.get("outcome") or None
        page = request.args.get("page", "")
        rows_page = tasks.task_rows_page(
            db.session, item.id, outcome=outcome, page=int(page) if page.isdecimal() else 1
        )
        widgets.update(
            task=item,
            selection=describe_selection(item.selection),
            outcome=outcome,
            rows_page=rows_page,
            rows=[(row, tasks.row_text(item, row)) for row in rows_page.rows],
            counts=tasks.outcome_counts(db.session, item.id),
            outcome_labels=OUTCOME_LABELS,
            progress_bar=progress_bar(item.progress),
            undo_refusal=tasks.why_not_undo(db.session, item)
            if item.kind == TaskKind.archive.value
            else None,
            undone_by=tasks.undo_of(db.session, item),
        )
        return widgets

    @expose("/<int:pk>/undo", methods=["POST"])
    @has_access
    def undo(self, pk):
        """Undo an archive task within 7 days: its passports whose plate is still free."""
        scoped_or_404(Task, pk)  # another garage's task (R-SEC-1)
        show = url_for(f"{self.endpoint}.show", pk=pk)
        if not ConfirmForm().validate_on_submit():
            flash(str(_l("The page had expired; please try again.")), "danger")
            return redirect(show)
        actor = current_actor()
        return attempt(
            lambda: tasks.start(
                db.session, tasks.undo_archive(db.session, pk, actor=actor), actor=actor
            ),
            done=_started,
            next_url=lambda task: url_for(f"{self.endpoint}.show", pk=task.id),
        ) or redirect(show)
