"""API keys of garage management systems (issue 16): a garage makes and revokes its own
on its settings page; Admin sees and revokes every garage's. The rules are in
services/api_keys; the scope leaves a garage its own keys."""

from __future__ import annotations

from flask import current_app, g, make_response, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from admin_app.extensions import db
from admin_app.models import ApiKey
from admin_app.services import api_keys
from admin_app.views.base import ConsoleModelView
from admin_app.views.forms import ConfirmForm, fits, submitted
from admin_app.web.actor import current_actor


class NewApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name (e.g. your management system's)"), [DataRequired(), fits(ApiKey, "name")]
    )


class ApiKeyView(ConsoleModelView):
    route_base = "/api-keys"
    # Not "ApiKey": FAB's own (per-login) key API goes by that name.
    class_permission_name = "GarageApiKey"
    datamodel = SQLAInterface(ApiKey)
    include_route_methods = {"list", "new", "revoke"}
    method_permission_name = {"list": "read", "new": "write", "revoke": "write"}
    list_template = "console/api_keys.html"

    @expose("/list/")
    @has_access
    def list(self):
        return self.render_template(
            self.list_template,
            keys=api_keys.list_api_keys(db.session),
            every_garage=_every_garage(),
            title=_l("API keys of all garages") if _every_garage() else _l("API keys"),
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = NewApiKeyForm()
        answer = submitted(
            form,
            lambda: api_keys.create_api_key(
                db.session,
                form.name.data,
                actor=current_actor(),
                signing_key=current_app.config["SECRET_KEY"],
            ),
            done=None,
            next_url=None,
            then=self._shown_once,
        )
        return answer or self.render_template(
            "console/form.html",
            form=form,
            title=_l("New API key"),
            submit_label=_l("Make the key"),
        )

    def _shown_once(self, made):
        key, secret = made
        response = make_response(
            self.render_template(
                "console/api_key_made.html",
                key=key,
                secret=secret,
                back=_back(),
                title=_l("API key %(name)s", name=key.name),
            )
        )
        # The only time the secret is sent: no browser or proxy keeps a copy.
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:pk>/revoke", methods=["GET", "POST"])
    @has_access
    def revoke(self, pk):
        key = api_keys.get_api_key(db.session, pk)
        form = ConfirmForm()
        answer = submitted(
            form,
            lambda: api_keys.revoke_api_key(db.session, pk, actor=current_actor()),
            done=_l("The key is revoked; it no longer works."),
            next_url=_back(),
        )
        return answer or self.render_template(
            "console/api_key_revoke.html",
            key=key,
            form=form,
            back=_back(),
            every_garage=_every_garage(),
            title=_l("Revoke API key %(name)s?", name=key.name),
        )


def _every_garage() -> bool:
    return bool(g.get("scope") and g.scope.sees_everything)


def _back() -> str:
    # A garage manages its keys on its settings page; Admin on the list of all keys.
    return url_for("ApiKeyView.list") if _every_garage() else url_for("MyGarageView.mine")
