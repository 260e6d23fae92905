"""Contact proposal screens (R-CP-1…4): the week's list, invoices upload, conversion."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional, Regexp

from admin_app.db import unit_of_work
from admin_app.domain.errors import DomainError
from admin_app.extensions import csrf, db
from admin_app.models.base import utcnow
from admin_app.models.proposals import DECISIONS, REASONS
from admin_app.services import apk_reminders, exports, list_exports, proposals
from admin_app.services.audit import Actor
from admin_app.services.customer_lists import XLSX_MIMETYPE
from admin_app.views.exports import NO_FILTER, export_response
from admin_app.views.formatting import week_name
from admin_app.views.forms import ConfirmForm, UploadForm, attempt, record_id, refused
from admin_app.web.actor import current_actor
from admin_app.web.permissions import READ_WRITE


class DecideForm(ConfirmForm):
    """The week's list as posted: the week it shows and, for the ticked rows, one choice
    (each row's own choice is a decision-<id> field); services.proposals checks them."""

    week = StringField(_l("Week"), [Optional(), Regexp(r"^\d{4}-W\d{2}$")])
    bulk = StringField(_l("Decision"), [Length(max=5)])


class ProposalView(BaseView):
    route_base = "/proposals"
    default_view = "week"
    class_permission_name = "ContactProposal"
    method_permission_name = {
        **READ_WRITE,
        "week": "read",
        "decide": "write",
        "invoices": "write",
        "conversion": "read",
        "conversion_xlsx": "read",
        "invoices_export": "read",
    }

    @expose("/")
    @has_access
    def week(self):
        now = utcnow()
        week = request.args.get("week") or proposals.open_week(now)
        try:
            monday = proposals.week_monday(week)
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(url_for(".week"))
        rows = list_exports.week_proposals(db.session, week).all()
        previous = proposals.iso_week(monday - dt.timedelta(days=7))
        following = proposals.iso_week(monday + dt.timedelta(days=7))
        return self.render_template(
            "console/proposals.html",
            title=_l("Contact proposals"),
            week=week,
            monday=monday,
            rows=rows,
            closed=proposals.is_closed(week, now),
            deadline=proposals.deadline(week).astimezone(proposals.AMSTERDAM),
            previous=previous,
            following=following,
            decisions={k: str(v) for k, v in DECISIONS.items()},
            reasons={k: str(v) for k, v in REASONS.items()},
            csrf=ConfirmForm(),
        )

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt):
        """The week's list as the screen shows it, as CSV or Excel (issue 15)."""
        week = request.args.get("week") or proposals.open_week(utcnow())
        if fmt not in exports.FORMATS:
            abort(404)
        try:
            proposals.week_monday(week)
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(url_for(".week"))
        return export_response(
            self,
            list_exports.PROPOSAL_EXPORT,
            list_exports.week_proposals(db.session, week),
            fmt,
            filter_text=f"{_l('Week')}: {week_name(week)}",
            back=url_for(".week", week=week),
            arguments={"week": week},
        )

    @expose("/decide", methods=["POST"])
    @has_access
    def decide(self):
        """Each row's choice, or one choice for the ticked rows (bulk)."""
        form = DecideForm()
        week = form.week.data if form.week.validate(form) else ""
        if not form.validate_on_submit():
            refused(form)
            return redirect(url_for(".week", week=week or None))
        by_decision: dict[str, list[int]] = {}
        # Ids that cannot be a record's (text, beyond 32 bits) are left out: they reached
        # the database as a 500 (issue 13).
        if form.bulk.data:
            by_decision[form.bulk.data] = [
                pk for pk in map(record_id, request.form.getlist("selected")) if pk
            ]
        else:
            for key, value in request.form.items():
                if key.startswith("decision-") and record_id(key[9:]):
                    by_decision.setdefault(value, []).append(record_id(key[9:]))

        def save():
            for decision, ids in by_decision.items():
                if ids:
                    proposals.decide(db.session, ids, decision, actor=current_actor(), now=utcnow())

        back = url_for(".week", week=week)
        return attempt(save, done=_l("Your choices are saved."), next_url=back) or redirect(back)

    @expose("/invoices", methods=["GET", "POST"])
    @has_access
    def invoices(self):
        """Upload an invoice export (R-CP-1)."""
        form = UploadForm()
        result = None
        if form.validate_on_submit():
            file = form.file.data
            try:
                with unit_of_work(db.session):
                    result = proposals.import_invoices(
                        db.session, filename=file.filename, data=file.read(), actor=current_actor()
                    )
            except DomainError as error:
                flash(str(error.message), "danger")
            else:
                from admin_app.domain.money import euro

                flash(
                    str(
                        _l(
                            "%(new)s new, %(unchanged)s unchanged (together %(total)s); "
                            "%(refused)s rows refused.",
                            new=result.created,
                            unchanged=result.unchanged,
                            total=euro(result.total_cents),
                            refused=len(result.refused),
                        )
                    ),
                    "success" if not result.refused else "warning",
                )
        return self.render_template(
            "console/invoices_upload.html", title=_l("Upload invoices"), form=form, result=result
        )

    @expose("/invoices/export/<fmt>")
    @has_access
    def invoices_export(self, fmt):
        """The invoices uploaded so far, as CSV or Excel (issue 15)."""
        if fmt not in exports.FORMATS:
            abort(404)
        return export_response(
            self,
            list_exports.INVOICE_EXPORT,
            list_exports.invoices(db.session),
            fmt,
            filter_text=str(NO_FILTER),
            back=url_for(".invoices"),
            arguments={},
        )

    @expose("/conversion")
    @has_access
    def conversion(self):
        from admin_app.domain.money import euro

        rows = proposals.conversion(db.session)
        return self.render_template(
            "console/conversion.html",
            title=_l("Conversion of invitations"),
            rows=rows,
            chart=_chart(rows),
            reminders=apk_reminders.reminder_conversion(db.session),
            euro=euro,
        )

    @expose("/conversion.xlsx")
    @has_access
    def conversion_xlsx(self):
        data = proposals.conversion_xlsx(
            proposals.conversion(db.session), apk_reminders.reminder_conversion(db.session)
        )
        return Response(
            data,
            mimetype=XLSX_MIMETYPE,
            headers={"Content-Disposition": 'attachment; filename="conversie.xlsx"'},
        )


def _chart(rows) -> dict:
    """Bar positions for an inline SVG (no chart library, no CDN): invited and invoiced per
    week, oldest week on the left, with a y-axis of customers and an x-axis of weeks."""
    left, bottom, width, height, gap = 44, 34, 640, 200, 6  # the plot area and its margins
    step = _tick_step(max([r.invited for r in rows] + [1]))
    top = step * 4
    slot = (width - gap) / max(len(rows), 1)
    bars, weeks = [], []
    for index, row in enumerate(rows):
        x = left + gap + index * slot
        bar = max(slot / 2 - gap, 2)
        for offset, value, kind in ((0, row.invited, "invited"), (bar, row.converted, "converted")):
            h = height * value / top
            bars.append(
                {
                    "x": round(x + offset, 1),
                    "y": round(height - h, 1),
                    "w": round(bar, 1),
                    "h": round(h, 1),
                    "kind": kind,
                    "value": value,
                    "week": row.week,
                }
            )
        # "2026-W49" → "49": the year is in the table and in each bar's tooltip.
        weeks.append({"x": round(x + bar, 1), "label": row.week.rsplit("W", 1)[-1]})
    ticks = [{"y": round(height - height * n * step / top, 1), "label": n * step} for n in range(5)]
    return {
        "left": left,
        "width": width,
        "height": height,
        "full_width": left + width + 8,
        "full_height": height + bottom + 22,
        "bars": bars,
        "weeks": weeks,
        "ticks": ticks,
    }


def _tick_step(highest: int) -> int:
    """A round step (1, 2, 5, 10, 20, 50, …) so that four steps reach ``highest``."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step * 4 >= highest:
                return step
        magnitude *= 10


# RFC 8058: the body a mail program posts for one-click unsubscribe.
ONE_CLICK_FIELD, ONE_CLICK = "List-Unsubscribe", "One-Click"


class OptOutView(BaseView):
    """The invitation's opt-out link (R-CP-2): a confirmation page, then "never".

    A mail program's unsubscribe button posts ``List-Unsubscribe=One-Click`` to the same
    address (RFC 8058), with no cookie and no CSRF token: the token in the address is the
    proof, as for the link itself. Every other post still needs the form's CSRF token."""

    route_base = ""
    default_view = "opt_out"

    @expose("/opt-out/<token>", methods=["GET", "POST"])
    @csrf.exempt  # for the one-click post only: the view checks the others itself
    def opt_out(self, token):
        one_click = request.method == "POST" and request.form.get(ONE_CLICK_FIELD) == ONE_CLICK
        if request.method == "POST" and not one_click:
            csrf.protect()
        try:
            customer = proposals.customer_for_opt_out(db.session, token)
        except DomainError:
            return self.render_template("console/not_found.html"), 404
        form = ConfirmForm()
        done = False
        if one_click or form.validate_on_submit():
            with unit_of_work(db.session, Actor(None, customer.email)):
                proposals.opt_out(db.session, token)
            done = True
        return self.render_template(
            "console/opt_out.html", form=form, done=done or customer.never_contact
        )

    @expose("/apk-overview/stop/<token>", methods=["GET", "POST"])
    @csrf.exempt  # for the one-click post only, as the opt-out above
    def stop_apk_overview(self, token):
        """The weekly APK overview's stop link (issue 18), for a fleet manager."""
        one_click = request.method == "POST" and request.form.get(ONE_CLICK_FIELD) == ONE_CLICK
        if request.method == "POST" and not one_click:
            csrf.protect()
        try:
            fleet = apk_reminders.fleet_for_digest_stop(db.session, token)
        except DomainError:
            return self.render_template("console/not_found.html"), 404
        form = ConfirmForm()
        done = False
        if one_click or form.validate_on_submit():
            with unit_of_work(db.session, Actor(None, fleet.email)):
                apk_reminders.stop_digest(db.session, token, utcnow())
            done = True
        return self.render_template(
            "console/apk_overview_stop.html",
            form=form,
            fleet=fleet,
            done=done or fleet.apk_digest_stopped_at is not None,
        )
