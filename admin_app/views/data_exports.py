"""A customer's data export on screen (issue 19, R-DR-1): asked for from the customer's
page (Garage, Support) or from "Mijn voertuigen" (the Owner for himself), then a page per
export with its progress in words and, once ready, the download. The rules are in
services/data_exports; only the requester ever sees an export (others: 404)."""

from __future__ import annotations

from flask import abort, current_app, redirect, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from admin_app.db import unit_of_work
from admin_app.domain.clock import local_datetime
from admin_app.domain.errors import Gone, NotFound
from admin_app.extensions import db
from admin_app.models import Customer
from admin_app.models.base import utcnow
from admin_app.models.data_exports import BUILDING, READY
from admin_app.scope import scoped_get
from admin_app.services import data_exports
from admin_app.views.forms import ConfirmForm, submitted
from admin_app.web.actor import current_actor
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import DATA_EXPORT_PERMISSIONS


class CustomerExportForm(FlaskForm):
    # Support only: the person at every garage, at his own request.
    whole_person = BooleanField(_l("Every garage where this e-mail is a customer"))


def progress_words(export) -> str:
    if export.progress <= 0:
        return str(_l("Waiting for the worker to start."))
    return str(_l("Gathering the data: %(percent)s%% done.", percent=export.progress))


class DataExportView(BaseView):
    route_base = "/data-exports"
    class_permission_name = "DataExport"
    base_permissions = DATA_EXPORT_PERMISSIONS
    method_permission_name = {
        "customer": "customer",
        "mine": "own",
        "show": "read",
        "download": "read",
    }
    default_view = "show"

    @expose("/customer/<int:customer_id>", methods=["POST"])
    @has_access
    def customer(self, customer_id):
        """A garage's export of its customer, or Support's (one row or the person)."""
        scoped_or_404(Customer, customer_id)  # another garage's customer, as on his own page
        answer = submitted(
            CustomerExportForm(),
            lambda: data_exports.request_customer_export(
                db.session,
                customer_id,
                actor=current_actor(),
                whole_person=bool(CustomerExportForm().whole_person.data),
                now=utcnow(),
            ),
            done=None,
            next_url=lambda export: url_for("DataExportView.show", pk=export.id),
        )
        return answer or redirect(url_for("CustomerView.show", pk=customer_id))

    @expose("/mine", methods=["POST"])
    @has_access
    def mine(self):
        """The Owner's export of himself, from "Mijn voertuigen"."""
        answer = submitted(
            ConfirmForm(),
            lambda: data_exports.request_own_export(
                db.session, actor=current_actor(), now=utcnow()
            ),
            done=None,
            next_url=lambda export: url_for("DataExportView.show", pk=export.id),
        )
        return answer or redirect(url_for("MyVehiclesView.list"))

    @expose("/<int:pk>")
    @has_access
    def show(self, pk):
        try:
            export = data_exports.get_own_export(
                db.session, pk, user_id=current_actor().id, now=utcnow()
            )
        except Gone as gone:
            return self._gone(gone)
        except NotFound:
            abort(404)
        # Whose export, in the title: a garage may have asked for several customers'.
        about = scoped_get(db.session, Customer, export.customer_id) if export.customer_id else None
        return self.render_template(
            "console/data_export.html",
            title=(
                _l("Data export of %(name)s", name=about.full_name) if about else _l("Data export")
            ),
            export=export,
            building=export.state == BUILDING,
            ready=export.state == READY,
            progress_text=progress_words(export),
            expires=local_datetime(export.expires_at),
        )

    @expose("/<int:pk>/download")
    @has_access
    def download(self, pk):
        try:
            with unit_of_work(db.session, current_actor()):
                export, path = data_exports.download(
                    db.session,
                    pk,
                    actor=current_actor(),
                    folder=current_app.config["DATA_EXPORT_FOLDER"],
                    now=utcnow(),
                )
        except Gone as gone:
            return self._gone(gone)
        except NotFound:
            abort(404)
        if path is None:
            return redirect(url_for("DataExportView.show", pk=pk))
        return send_file(
            path,
            mimetype="application/zip",
            as_attachment=True,
            download_name=data_exports.file_name(export),
            max_age=0,
        )

    def _gone(self, gone: Gone):
        return (
            self.render_template(
                "console/data_export.html", title=_l("Data export"), gone=gone.message
            ),
            410,
        )
