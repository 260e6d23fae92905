"""Inspection form screens (R-IN-1…7): find a vehicle, fill in a form, save, print.

The form page posts every checkpoint, advice line and flag at once; the view turns the
posted fields into the changes service.update_form takes, then saves a version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from admin_app.domain.clock import local_today
from admin_app.domain.errors import DomainError
from admin_app.extensions import db
from admin_app.models import InspectionForm
from admin_app.models.inspections import FORM_KIND_LABELS, STATUS_LABELS, STATUSES, FormKind
from admin_app.services import (
    dashboard,
    exports,
    inspections,
    list_exports,
    printing,
    vehicle_values,
)
from admin_app.services.units import kilometres
from admin_app.views.exports import NO_FILTER, export_response
from admin_app.views.forms import (
    ConfirmForm,
    UploadForm,
    attempt,
    record_id,
    refused,
    said_expired,
    submitted,
)
from admin_app.web.actor import current_actor
from admin_app.web.permissions import READ_WRITE


# What each of the page's POST handlers reads, bounded as the columns and the content's
# parts it goes to (issue 13: a 100,000-character field, or an id of 30 digits, was a 500
# or a message too large for the session cookie). The rules stay in services.inspections.
class NewInspectionForm(ConfirmForm):
    kind = StringField(_l("Kind"), [Length(max=10)])
    passport_id = StringField(_l("Vehicle"), [Length(max=12)])
    inspector = StringField(_l("Inspector"), [Length(max=120)])
    inspection_date = StringField(_l("Inspection date"), [Length(max=20)])


def _date_field(name: str) -> StringField:
    return StringField(inspections.PASSPORT_DATES[name], [Length(max=20)], name=f"date-{name}")


class InspectionPageForm(ConfirmForm):
    """The fixed fields of the form page; per checkpoint and advice line the service
    bounds remark (1000), description (500) and price."""

    inspector = StringField(_l("Inspector"), [Length(max=120)])
    date_next_service = _date_field("next_service")
    date_apk_expiry = _date_field("apk_expiry")
    date_mobility_renewal = _date_field("mobility_renewal")


class PerformedWorkForm(ConfirmForm):
    description = StringField(_l("Description"), [Length(max=500)])
    done_on = StringField(_l("Date"), [Length(max=20)])


class InvitationForm(ConfirmForm):
    passport_id = StringField(_l("Vehicle"), [Length(max=12)])


class CheckpointForm(ConfirmForm):
    remove = StringField(_l("Checkpoint"), [Length(max=12)])
    group = StringField(_l("Group"), [Length(max=80)])
    name = StringField(_l("Checkpoint"), [Length(max=120)])


class InspectionView(BaseView):
    route_base = "/inspections"
    default_view = "find"
    class_permission_name = "InspectionForm"
    method_permission_name = {
        **READ_WRITE,
        "find": "read",
        "all_forms": "read",
        "new": "write",
        "form": "read",
        "version": "read",
        "pdf": "read",
        "performed_work": "write",
        "mail_again": "write",
        "recalls": "write",
        "invite": "write",
        "checkpoints": "read",
    }

    @expose("/")
    @has_access
    def find(self):
        """R-IN-1: by plate (with invitation) or by plate or customer number (without)."""
        query = request.args.get("q", "").strip()
        with_invitation = request.args.get("invited", "1") == "1"
        found = None
        waiting_only = request.args.get("waiting") == "1" and not query
        if waiting_only:
            # The home page's "invitations without a form": those cars, ready for a form.
            waiting = dashboard.open_invitations(db.session)
            found = inspections.Found([i.passport for i in waiting], waiting, [])
        elif query:
            try:
                found = inspections.find_vehicle(db.session, query, with_invitation=with_invitation)
            except DomainError as error:
                flash(str(error.message), "danger")
        return self.render_template(
            "console/inspection_find.html",
            title=_l("Inspection forms"),
            query=query,
            with_invitation=with_invitation,
            found=found,
            # Brand and model as they count (issue 18): one register query for the cars.
            car_values=vehicle_values.values_of(db.session, found.passports) if found else {},
            waiting_only=waiting_only,
            kinds=FORM_KIND_LABELS,
            today=local_today().isoformat(),
            form=ConfirmForm(),
        )

    @expose("/all")
    @has_access
    def all_forms(self):
        drafts = request.args.get("drafts") == "1"
        # The newest 500 on screen; the export below holds them all.
        forms = list_exports.inspection_forms(db.session, drafts=drafts).limit(500).all()
        return self.render_template(
            "console/inspection_list.html",
            title=_l("Inspection forms not saved yet") if drafts else _l("All inspection forms"),
            forms=forms,
        )

    @expose("/all/export/<fmt>")
    @has_access
    def export(self, fmt):
        """Every form in scope, as CSV or Excel (issue 15)."""
        if fmt not in exports.FORMATS:
            abort(404)
        drafts = request.args.get("drafts") == "1"
        return export_response(
            self,
            list_exports.INSPECTION_FORM_EXPORT,
            list_exports.inspection_forms(db.session, drafts=drafts),
            fmt,
            filter_text=str(_l("Inspection forms not saved yet") if drafts else NO_FILTER),
            back=url_for(".all_forms", drafts="1" if drafts else None),
            arguments={"drafts": "1" if drafts else None},
        )

    @expose("/new", methods=["POST"])
    @has_access
    def new(self):
        form = NewInspectionForm()
        if not form.validate_on_submit():
            refused(form)
            return redirect(url_for(".find"))
        answer = attempt(
            lambda: inspections.create_draft(
                db.session,
                kind=form.kind.data,
                actor=current_actor(),
                inspector=form.inspector.data or g.user.first_name or g.user.username,
                inspection_date=form.inspection_date.data or local_today(),
                passport_id=record_id(form.passport_id.data),
                reopen=True,
            ),
            done=_l("A new form (draft): fill it in and save it."),
            next_url=lambda form: url_for(".form", pk=form.id),
        )
        return answer or redirect(request.referrer or url_for(".find"))

    @expose("/<int:pk>", methods=["GET", "POST"])
    @has_access
    def form(self, pk):
        form = inspections.get_form(db.session, pk)
        csrf = InspectionPageForm()
        if request.method != "POST":
            return self._page(form, None, csrf)
        changes = _posted_changes(form)
        refusal: dict = {}
        if not csrf.validate_on_submit():
            refused(csrf)
            refusal = {name: list(errors) for name, errors in csrf.errors.items()}
        else:
            answer = attempt(
                lambda: self._save(form, changes),
                done=_l("The form is saved."),
                next_url=url_for(".form", pk=pk),
                on_refusal=lambda error: refusal.update(error.errors or {"": [error.message]}),
            )
            if answer:
                return answer
            db.session.refresh(form)
        # Refused: the page comes back with everything as it was typed, the refused
        # field marked (R-IN-4); nothing of it was stored.
        return self._page(form, None, csrf, typed=(changes, refusal)), 422

    def _save(self, form: InspectionForm, changes: dict):
        inspections.update_form(db.session, form.id, changes, actor=current_actor())
        return inspections.save_form(db.session, form.id, actor=current_actor())

    @expose("/<int:pk>/version/<int:number>")
    @has_access
    def version(self, pk, number):
        form = inspections.get_form(db.session, pk)
        return self._page(form, number, ConfirmForm())

    def _page(self, form: InspectionForm, number: int | None, csrf, typed=None, work=None):
        context = inspections.print_context(db.session, form, number)
        editable = number is None and inspections.editable(form, local_today())
        shown = {
            "inspector": form.inspector,
            "send_updates": form.send_updates,
            "still_adjusting": form.still_adjusting,
        }
        marks: dict[str, str] = {}
        typed_advice: list[TypedAdvice] = []
        if typed is not None:
            changes, errors = typed
            context["content"], typed_advice = _as_typed(context["content"], changes, errors)
            context["groups"] = context["content"].groups()
            shown = {name: changes[name] for name in shown}
            marks = _marks(errors, context["content"])
        return self.render_template(
            "console/inspection_form.html",
            title=_l("Inspection form"),
            editable=editable,
            typed=typed is not None,
            typed_advice=typed_advice,
            shown=shown,
            marks=marks,
            customer_labels=inspections.CUSTOMER_LABELS,
            vehicle_labels=inspections.VEHICLE_LABELS,
            work=work or PerformedWorkForm(formdata=None),
            statuses=[(s, str(STATUS_LABELS[s])) for s in STATUSES],
            kinds=FORM_KIND_LABELS,
            csrf=csrf,
            date_labels=inspections.PASSPORT_DATES,
            print_available=printing.available(),
            print_unavailable=printing.not_installed_message(),
            **context,
        )

    @expose("/<int:pk>/pdf")
    @has_access
    def pdf(self, pk):
        inspections.get_form(db.session, pk)  # another garage's form: 404, not a message
        try:
            form, data = inspections.form_pdf(db.session, pk)
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(url_for(".form", pk=pk))
        return Response(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="inspectie-{form.plate or pk}.pdf"'},
        )

    @expose("/<int:pk>/performed-work", methods=["POST"])
    @has_access
    def performed_work(self, pk):
        inspection = inspections.get_form(db.session, pk)
        form = PerformedWorkForm()
        answer = submitted(
            form,
            lambda: inspections.add_performed_work(
                db.session,
                pk,
                description=form.description.data,
                done_on=form.done_on.data,
                actor=current_actor(),
            ),
            done=_l("The work is noted on the form."),
            next_url=url_for(".form", pk=pk),
        )
        if answer:
            return answer
        # Refused: the form page again with the work as typed, its field marked (R-IN-4).
        said_expired(form)
        db.session.refresh(inspection)
        return self._page(inspection, None, InspectionPageForm(), work=form), 422

    @expose("/<int:pk>/mail-again", methods=["POST"])
    @has_access
    def mail_again(self, pk):
        inspections.get_form(db.session, pk)
        back = url_for(".form", pk=pk)
        if not ConfirmForm().validate_on_submit():
            return redirect(back)
        return attempt(
            lambda: inspections.mail_again(db.session, pk, actor=current_actor()),
            done=_l("The form is mailed to the customer again."),
            next_url=back,
        ) or redirect(back)

    @expose("/invite", methods=["POST"])
    @has_access
    def invite(self):
        """Register that the customer asked for an inspection of this car (R-IN-1)."""
        back = request.referrer or url_for(".find")
        form = InvitationForm()
        if not form.validate_on_submit():
            refused(form)
            return redirect(back)
        return attempt(
            lambda: inspections.register_invitation(
                db.session, passport_id=record_id(form.passport_id.data), actor=current_actor()
            ),
            done=_l("The invitation is registered."),
            next_url=back,
        ) or redirect(back)

    @expose("/checkpoints", methods=["GET", "POST"])
    @has_access
    def checkpoints(self):
        """The standard checklist and the garage's own checkpoints (R-IN-4)."""
        csrf = CheckpointForm()
        if request.method == "POST" and not csrf.validate_on_submit():
            refused(csrf)
        elif request.method == "POST":
            if csrf.remove.data:
                action = lambda: inspections.remove_checkpoint(  # noqa: E731
                    db.session, record_id(csrf.remove.data), actor=current_actor()
                )
                done = _l("The checkpoint is removed; forms already made keep it.")
            else:
                action = lambda: inspections.add_checkpoint(  # noqa: E731
                    db.session,
                    group=csrf.group.data,
                    name=csrf.name.data,
                    actor=current_actor(),
                )
                done = _l("The checkpoint is added to new forms.")
            answer = attempt(action, done=done, next_url=url_for(".checkpoints"))
            if answer:
                return answer
        listed = inspections.checklist(db.session, g.user.garage_id) if g.user.garage_id else []
        groups: dict[str, list] = {}
        for checkpoint in listed:
            groups.setdefault(checkpoint.group_name, []).append(checkpoint)
        return self.render_template(
            "console/inspection_checkpoints.html",
            title=_l("Checkpoints"),
            groups=groups,
            csrf=csrf,
        )

    @expose("/recalls", methods=["GET", "POST"])
    @has_access
    def recalls(self):
        """Admin: the platform-wide recall file (R-IN-3)."""
        upload = UploadForm()
        if upload.validate_on_submit():
            file = upload.file.data
            answer = attempt(
                lambda: inspections.import_recalls(
                    db.session, filename=file.filename, data=file.read(), actor=current_actor()
                ),
                done=lambda counts: _l(
                    "Recall data imported: %(created)s new, %(updated)s changed, "
                    "%(unchanged)s unchanged, %(refused)s refused.",
                    **counts,
                ),
                next_url=url_for(".recalls"),
            )
            if answer:
                return answer
        return self.render_template(
            "console/inspection_recalls.html", title=_l("Import recall data"), form=upload
        )


def _posted_changes(form: InspectionForm) -> dict:
    """The form page's fields as the changes update_form takes."""
    posted = request.form
    results = [
        {
            "checkpoint_id": result.checkpoint_id,
            "status": posted.get(f"status-{result.checkpoint_id}") or None,
            "remark": posted.get(f"remark-{result.checkpoint_id}", ""),
        }
        for result in inspections.form_document(form).results
    ]
    advice = [
        {"description": description, "price": price}
        for description, price in zip(
            posted.getlist("advice_description"), posted.getlist("advice_price"), strict=False
        )
    ]
    changes = {
        "results": results,
        "advice": advice,
        "dates": {name: posted.get(f"date-{name}", "") for name in inspections.PASSPORT_DATES},
        "send_updates": posted.get("send_updates") == "1",
        "still_adjusting": posted.get("still_adjusting") == "1",
        "inspector": posted.get("inspector", form.inspector),
    }
    if form.kind == FormKind.blank.value:
        changes["customer"] = {
            k: posted.get(f"customer-{k}", "") for k in inspections.CUSTOMER_FIELDS
        }
        changes["vehicle"] = {k: posted.get(f"vehicle-{k}", "") for k in inspections.VEHICLE_FIELDS}
    return changes


@dataclass
class TypedAdvice:
    """An advice line of a refused save as it was typed, its refused part marked."""

    description: str
    price_text: str
    description_error: str | None
    price_error: str | None


def _as_typed(
    content: inspections.FormDocument, changes: dict, errors: dict
) -> tuple[inspections.FormDocument, list[TypedAdvice]]:
    """The stored document with what the user typed laid over it, for a refused save:
    statuses, remarks, dates, and on a blank form the customer and vehicle (as typed: an
    odometer may be text here); and the advice lines with their prices as typed."""

    def message(name: str):
        return str(errors[name][0]) if errors.get(name) else None

    # The page posted one status and remark per result of this very form, in its order.
    results = [
        replace(result, status=edit["status"], remark=edit["remark"])
        for result, edit in zip(content.results, changes["results"], strict=False)
    ]
    typed = replace(content, results=results, dates=replace(content.dates, **changes["dates"]))
    if "customer" in changes:
        typed.customer = replace(content.customer, **changes["customer"])
    if "vehicle" in changes:
        typed.vehicle = replace(content.vehicle, **changes["vehicle"])
    advice = [
        TypedAdvice(
            description=item["description"],
            price_text=item["price"],
            description_error=message(f"advice.{index}.description"),
            price_error=message(f"advice.{index}.price"),
        )
        for index, item in enumerate(changes["advice"])
        if (item["description"] or "").strip() or (item["price"] or "").strip()
    ]
    return typed, advice


def _marks(errors: dict, content: inspections.FormDocument) -> dict[str, str]:
    """The refusal's messages by the name of the page's input they belong to."""
    names = {name: f"date-{name}" for name in inspections.PASSPORT_DATES}
    names["inspector"] = "inspector"
    for part, keys in (
        ("customer", inspections.CUSTOMER_FIELDS),
        ("vehicle", inspections.VEHICLE_FIELDS),
    ):
        names.update({f"{part}.{key}": f"{part}-{key}" for key in keys})
    # A remark is refused by its place in the list the page posted: the form's results.
    for index, result in enumerate(content.results):
        names[f"results.{index}.remark"] = f"remark-{result.checkpoint_id}"
    return {names[name]: str(messages[0]) for name, messages in errors.items() if name in names}


class PublicInspectionView(BaseView):
    """The customer's mailed link (R-IN-6): read-only, no login, 90 days; the newest version
    saved while the car was his."""

    route_base = ""
    default_view = "public"

    @expose("/inspection/<token>")
    def public(self, token):
        try:
            form, number = inspections.form_from_link(db.session, token)
        except DomainError:
            return self.render_template("console/not_found.html"), 404
        context = inspections.print_context(db.session, form, number)
        return self.render_template("console/inspection_print.html", **context)


def read_only_form(view, forms, form_id, *, back: str):
    """A fleet manager's or owner's read-only page of one of the forms listed for him
    (issue 15, R-FL-5); 404 for any other id. No PDF: neither role has the forms' "read"
    permission that printing needs."""
    readable = inspections.readable_form(forms, form_id)  # NotFound: the app's 404
    return view.render_template(
        "console/inspection_read.html",
        title=_l("Inspection form"),
        back=back,
        kilometres=kilometres,
        **inspections.read_only_context(db.session, readable),
    )


def result_summary(form: InspectionForm) -> str:
    """A saved form's checkpoint results in a few words: "12 × OK, 2 × Advice"."""
    counts: dict[str, int] = {}
    for result in inspections.form_document(form).results:
        if result.status:
            counts[result.status] = counts.get(result.status, 0) + 1
    return ", ".join(f"{counts[s]} × {STATUS_LABELS[s]}" for s in STATUSES if s in counts) or "—"
