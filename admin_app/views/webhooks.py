"""The garage's webhooks screen (issue 16): its endpoints, a new one with its secret shown
once, rotate, switch off and on, delete, and each endpoint's delivery log with "send
again". The rules are services/webhooks; rows come through the scope (a garage sees its
own, Admin all, other roles none)."""

from __future__ import annotations

from flask import abort, make_response, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, widgets

from admin_app.extensions import db
from admin_app.models import Garage, WebhookEndpoint
from admin_app.services import webhooks
from admin_app.services.audit import actor_names
from admin_app.views.forms import ConfirmForm, attempt, fits, submitted
from admin_app.web.actor import current_actor
from admin_app.web.lookup import scoped_or_404
from admin_app.web.permissions import READ_WRITE


class EventChoices(SelectMultipleField):
    """The events as checkboxes, each with its words."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        # The service keeps the known events and refuses none chosen, in words.
        pass


class EndpointForm(ConfirmForm):
    url = StringField(_l("URL of your endpoint (https://…)"), [fits(WebhookEndpoint, "url")])
    events = EventChoices(_l("Events to send"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(key, str(label)) for key, label in webhooks.EVENT_LABELS.items()]


def _endpoint_or_404(pk) -> WebhookEndpoint:
    endpoint = scoped_or_404(WebhookEndpoint, pk)
    return endpoint


class WebhookView(BaseView):
    route_base = "/webhooks"
    default_view = "endpoints"
    class_permission_name = "Webhook"
    method_permission_name = {
        **READ_WRITE,
        "endpoints": "read",
        "log": "read",
        "new": "write",
        "change": "write",
        "rotate": "write",
        "switch_off": "write",
        "switch_on": "write",
        "remove": "write",
        "send_again": "write",
    }

    @expose("/")
    @has_access
    def endpoints(self):
        found = webhooks.list_endpoints(db.session)
        garages = {}
        if found and not current_actor().garage_id:
            # Admin sees every garage's endpoints: say whose each is.
            ids = {e.garage_id for e in found}
            garages = {g.id: g.name for g in db.session.query(Garage).filter(Garage.id.in_(ids))}
        # Who made each, as the history names people ("Gert Jansen", not his login name).
        makers = actor_names(db.session, [(e.created_by_id, e.created_by) for e in found])
        return self.render_template(
            "console/webhooks.html",
            title=_l("Webhooks"),
            endpoints=found,
            garages=garages,
            makers=makers,
            event_label=webhooks.event_label,
            delivery_problem=webhooks.delivery_problem,
            form=ConfirmForm(),
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = EndpointForm()
        answer = submitted(
            form,
            lambda: webhooks.register_endpoint(
                db.session, url=form.url.data, events=form.events.data, actor=current_actor()
            ),
            done=None,
            next_url=None,
            then=lambda made: self._secret_page(made[0], made[1], created=True),
        )
        if not form.is_submitted():
            form.events.data = []
        return answer or self.render_template(
            "console/webhook_form.html", form=form, title=_l("New webhook endpoint")
        )

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def change(self, pk):
        # Not "edit": that name is FAB's ModelView edit (its columns), which this is not.
        endpoint = _endpoint_or_404(pk)
        form = EndpointForm()
        answer = submitted(
            form,
            lambda: webhooks.update_endpoint(
                db.session, pk, url=form.url.data, events=form.events.data, actor=current_actor()
            ),
            done=_l("The endpoint is saved."),
            next_url=url_for(f"{self.endpoint}.endpoints"),
        )
        if not form.is_submitted():
            form.url.data, form.events.data = endpoint.url, list(endpoint.events or [])
        return answer or self.render_template(
            "console/webhook_form.html", form=form, title=_l("Change webhook endpoint")
        )

    def _secret_page(self, endpoint, secret, *, created):
        page = self.render_template(
            "console/webhook_secret.html",
            title=_l("Signing secret"),
            endpoint=endpoint,
            secret=secret,
            created=created,
        )
        response = make_response(page)
        # Shown this once: no copy in a cache or in the browser's history.
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:pk>/rotate", methods=["POST"])
    @has_access
    def rotate(self, pk):
        _endpoint_or_404(pk)
        form = ConfirmForm()
        return (
            submitted(
                form,
                lambda: webhooks.rotate_secret(db.session, pk, actor=current_actor()),
                done=None,
                next_url=None,
                then=lambda made: self._secret_page(made[0], made[1], created=False),
            )
            or self._back()
        )

    @expose("/<int:pk>/switch-off", methods=["POST"])
    @has_access
    def switch_off(self, pk):
        return self._act(
            pk,
            lambda: webhooks.disable_endpoint(db.session, pk, actor=current_actor()),
            _l("The endpoint is switched off; it receives no events until you switch it on."),
        )

    @expose("/<int:pk>/switch-on", methods=["POST"])
    @has_access
    def switch_on(self, pk):
        return self._act(
            pk,
            lambda: webhooks.enable_endpoint(db.session, pk, actor=current_actor()),
            _l("The endpoint is switched on; new events are sent to it."),
        )

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    def remove(self, pk):
        return self._act(
            pk,
            lambda: webhooks.delete_endpoint(db.session, pk, actor=current_actor()),
            _l("The endpoint and its delivery log are deleted."),
        )

    def _act(self, pk, action, done):
        _endpoint_or_404(pk)
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        return attempt(action, done=done, next_url=url_for(f"{self.endpoint}.endpoints")) or (
            self._back()
        )

    def _back(self):
        return redirect(url_for(f"{self.endpoint}.endpoints"))

    @expose("/<int:pk>/log")
    @has_access
    def log(self, pk):
        endpoint = _endpoint_or_404(pk)
        return self.render_template(
            "console/webhook_log.html",
            title=_l("Delivery log of %(url)s", url=endpoint.url),
            endpoint=endpoint,
            deliveries=webhooks.deliveries_of(db.session, pk),
            event_label=webhooks.event_label,
            delivery_problem=webhooks.delivery_problem,
            form=ConfirmForm(),
        )

    @expose("/<int:pk>/log/<int:delivery_id>/send-again", methods=["POST"])
    @has_access
    def send_again(self, pk, delivery_id):
        _endpoint_or_404(pk)
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        back = url_for(f"{self.endpoint}.log", pk=pk)
        return attempt(
            lambda: webhooks.send_again(db.session, pk, delivery_id, actor=current_actor()),
            done=_l("The event is sent again in a moment."),
            next_url=back,
        ) or redirect(back)
