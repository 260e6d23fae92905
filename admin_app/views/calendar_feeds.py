"""The calendar address of an Owner or a fleet manager (issue 18): made, renewed and
stopped from "Mijn voertuigen" or "Mijn AutoPaspoorten", and the feed itself, served to
calendar apps without a login. The rules are in services/calendar_feeds."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import abort, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from admin_app.db import unit_of_work
from admin_app.domain.errors import NotFound
from admin_app.extensions import db
from admin_app.roles import FLEET_MANAGER
from admin_app.services import calendar_feeds
from admin_app.services.mails import public_url
from admin_app.views.forms import ConfirmForm, submitted
from admin_app.web.actor import current_actor


def calendar_panel() -> dict | None:
    """What the calendar panel on the subscriber's page shows: his live address, if any.
    None for a login without cars of its own (Admin opening an owner's page)."""
    actor = current_actor()
    if not calendar_feeds.may_subscribe(actor):
        return None
    return {"feed": calendar_feeds.current_feed(db.session, actor=actor)}


class CalendarFeedView(BaseView):
    route_base = "/calendar"
    class_permission_name = "CalendarFeed"
    method_permission_name = {"new": "write", "stop": "write"}
    default_view = "new"

    @expose("/new", methods=["POST"])
    @has_access
    def new(self):
        """A new secret address, shown once; an earlier one stops working."""
        answer = submitted(
            ConfirmForm(),
            lambda: calendar_feeds.new_feed_address(db.session, actor=current_actor()),
            done=None,
            next_url=None,
            then=self._shown_once,
        )
        return answer or redirect(_back())

    def _shown_once(self, made):
        _feed, secret = made
        address = public_url(url_for("CalendarFeedView.feed", token=secret))
        response = make_response(
            self.render_template(
                "console/calendar_made.html",
                address=address,
                webcal="webcal://" + address.split("://", 1)[1],
                back=_back(),
                title=_l("Your calendar address"),
            )
        )
        # The only time the address is sent: no browser or proxy keeps a copy.
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/stop", methods=["POST"])
    @has_access
    def stop(self):
        """Revoke the address: calendar apps get 404 from their next poll on."""
        answer = submitted(
            ConfirmForm(),
            lambda: calendar_feeds.stop_feed(db.session, actor=current_actor()),
            done=_l("The calendar address is stopped; calendar apps no longer get your dates."),
            next_url=_back(),
        )
        return answer or redirect(_back())

    @expose("/<token>.ics")
    def feed(self, token):
        """The feed, for calendar apps: no login, the secret address is the authorization
        (a revoked or unknown one is 404). Cacheable for an hour by the client only, with
        an ETag, so a polling app mostly gets 304."""
        try:
            feed = calendar_feeds.feed_for_secret(db.session, token)
        except NotFound:
            abort(404)
        with unit_of_work(db.session):
            body = calendar_feeds.calendar_ics(db.session, feed, host=_host())
            calendar_feeds.note_fetch(db.session, feed)
        response = make_response(body)
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
        response.headers["Content-Disposition"] = 'inline; filename="autopaspoort.ics"'
        response.headers["Cache-Control"] = (
            f"private, max-age={calendar_feeds.CACHE_SECONDS}, must-revalidate"
        )
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.set_etag(hashlib.sha256(body).hexdigest())
        return response.make_conditional(request)


def _host() -> str:
    """The domain of the events' UIDs: the console's public host, stable across servers."""
    return urlsplit(public_url("/")).hostname or "autopaspoort"


def _back() -> str:
    actor = current_actor()
    if actor.has(FLEET_MANAGER) and actor.fleet_account_id:
        return url_for("FleetDashboardView.list")
    return url_for("MyVehiclesView.list")
