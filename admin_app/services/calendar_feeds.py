"""Calendar feeds (issue 18): an Owner or a fleet manager subscribes his calendar app to a
secret address, and it shows the APK expiry, next service and mobility-service renewal of
his cars as all-day events.

The address is ``/calendar/<secret>.ics``; the secret is 32 random bytes, returned once by
``new_feed_address``; the database keeps its SHA-256 (services/tokens.hash_token), so a
database read yields no working address. A login has at most one live address: a new one
revokes the old, "stop" revokes it, and a revoked address answers 404. What a feed shows is
what the subscriber's own row scope (admin_app/scope.py) holds at each fetch: a car that
leaves his account or his fleet leaves his calendar with the next poll.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import icalendar
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from admin_app.domain.errors import Forbidden, NotFound
from admin_app.models import CalendarFeed, ConsoleUser, FleetAccount, Passport
from admin_app.models.base import utcnow
from admin_app.models.passports import PassportState
from admin_app.roles import FLEET_MANAGER
from admin_app.roles import OWNER as OWNER_ROLE
from admin_app.scope import (
    ALL_TENANTS,
    FLEET,
    OWNER,
    get_across_tenants,
    scope_for_user,
    unscoped,
)
from admin_app.services import vehicle_values
from admin_app.services.audit import Actor
from admin_app.services.tokens import hash_token

SECRET_BYTES = 32
# Calendar apps poll on their own schedule; this asks for twice a day (dates change at
# most daily), and Cache-Control lets a client keep an answer for an hour.
REFRESH_INTERVAL = dt.timedelta(hours=12)
CACHE_SECONDS = 3600
# "Last fetched" is written at most once an hour: a calendar app polling every five
# minutes must not cost a write each time.
NOTE_FETCH_EVERY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class CarDate:
    """One event of a feed: a car's date of one kind."""

    passport: Passport
    kind: str  # apk, service, mobility: part of the event's UID, never shown
    day: dt.date
    values: vehicle_values.CarValues  # brand and model for the title


# Per kind: the passport field and the event's title (in Dutch, as the mails are).
KINDS = (
    ("apk", "apk_expiry", _l("APK expires: %(car)s")),
    ("service", "next_service", _l("Service due: %(car)s")),
    ("mobility", "mobility_renewal", _l("Mobility service renewal: %(car)s")),
)


def may_subscribe(actor: Actor) -> bool:
    """Owners and fleet managers have a calendar; other roles have no cars of their own."""
    return actor.id is not None and (
        actor.has(OWNER_ROLE) or (actor.has(FLEET_MANAGER) and bool(actor.fleet_account_id))
    )


def current_feed(session: Session, *, actor: Actor) -> CalendarFeed | None:
    """The actor's live calendar address, if he has one. A login's own address, like its
    password: looked up by the login's id, it is nobody else's row."""
    if actor.id is None:
        return None
    return session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.user_id == actor.id, CalendarFeed.revoked_at.is_(None)
        )
    )


def new_feed_address(session: Session, *, actor: Actor) -> tuple[CalendarFeed, str]:
    """A new secret address for the actor's calendar, and its secret (returned only
    here); the earlier address stops working. Forbidden for a role without cars of its
    own. Both the revocation and the new address are in the audit log."""
    if not may_subscribe(actor):
        raise Forbidden(_l("Only a car owner or a fleet manager has a calendar of his cars."))
    _revoke(session, current_feed(session, actor=actor))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    feed = CalendarFeed(user_id=actor.id, token_hash=hash_token(secret))
    session.add(feed)
    session.flush()
    return feed, secret


def stop_feed(session: Session, *, actor: Actor) -> CalendarFeed | None:
    """Revoke the actor's calendar address: from the next poll on it answers 404.
    Stopping without an address changes nothing."""
    if not may_subscribe(actor):
        raise Forbidden(_l("Only a car owner or a fleet manager has a calendar of his cars."))
    feed = current_feed(session, actor=actor)
    _revoke(session, feed)
    return feed


def _revoke(session: Session, feed: CalendarFeed | None) -> None:
    if feed is not None and feed.revoked_at is None:
        feed.revoked_at = utcnow()
        # Before a new one is added: one live address per login (a unique index).
        session.flush()


def feed_for_secret(session: Session, secret: str) -> CalendarFeed:
    """The live feed behind a secret address; NotFound for an unknown or revoked secret,
    or when its login is switched off or no longer an owner or fleet manager."""
    if not secret or len(secret) > 200:
        raise NotFound(_l("Not found."))
    feed = session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.token_hash == hash_token(secret))
        .options(joinedload(CalendarFeed.user).joinedload(ConsoleUser.roles))
    )
    if feed is None or feed.revoked_at is not None or not feed.user.active:
        raise NotFound(_l("Not found."))
    if not may_subscribe(Actor.of_user(feed.user)):
        raise NotFound(_l("Not found."))
    return feed


def feed_cars(session: Session, feed: CalendarFeed) -> list[Passport]:
    """The subscriber's cars now, through his own row scope; archived cars have no dates
    to keep. Called from a request without a login: the secret is the authorization."""
    with unscoped():
        scope = scope_for_user(feed.user)
    if scope.kind not in (OWNER, FLEET):
        return []
    return list(
        session.scalars(
            select(Passport)
            .where(Passport.state != PassportState.archived.value)
            .options(*scope.loader_criteria(), joinedload(Passport.garage))
            .order_by(Passport.plate)
            # The scope applied here is the subscriber's, not the anonymous request's.
            .execution_options(**{ALL_TENANTS: True})
        )
        .unique()
        .all()
    )


def car_dates(session: Session, cars: list[Passport]) -> Iterator[CarDate]:
    """Each car's dates, one per kind that has one. The APK date is the one that counts
    (services/vehicle_values.py: the later of typed and register, issue 18); the others
    are the passport's own."""
    values = vehicle_values.values_of(session, cars)
    for passport in cars:
        for kind, field, _title in KINDS:
            if field in vehicle_values.FIELDS:
                day = values[passport.id].fields()[field].day
            else:
                day = getattr(passport, field)
            if day is not None:
                yield CarDate(passport, kind, day, values[passport.id])


def calendar_ics(
    session: Session, feed: CalendarFeed, *, host: str, now: dt.datetime | None = None
) -> bytes:
    """The feed as iCalendar (RFC 5545): one all-day event per car and date, with a UID
    stable per car and kind (``apk-12@host``), so a calendar app updates an event whose
    date moved instead of adding one. Titles in Dutch; only the plate, brand and model of
    the subscriber's own cars and their garage's name and phone — no person's data."""
    now = now or utcnow()
    # One stamp per day: the same data gives the same bytes, so the ETag holds all day.
    stamp = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    titles = {kind: title for kind, _field, title in KINDS}
    cars = feed_cars(session, feed)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//AutoPaspoort//Garage console//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    with force_locale("nl"):
        calendar.add("x-wr-calname", str(_calendar_name(session, feed)))
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", REFRESH_INTERVAL)
        for car_date in car_dates(session, cars):
            event = icalendar.Event()
            event.add("uid", f"{car_date.kind}-{car_date.passport.id}@{host}")
            event.add("dtstamp", stamp)
            event.add("dtstart", car_date.day)
            event.add("dtend", car_date.day + dt.timedelta(days=1))
            event.add(
                "summary",
                str(
                    titles[car_date.kind]
                    % {"car": vehicle_values.car_words_of(car_date.passport, car_date.values)}
                ),
            )
            garage = car_date.passport.garage
            if garage is not None:
                event.add("description", _garage_words(garage))
            # A date to remember, not time taken: the day stays free in the calendar.
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar.to_ical()


def _calendar_name(session: Session, feed: CalendarFeed):
    # The subscriber's own fleet account; the anonymous request's scope would hide it.
    fleet_id = feed.user.fleet_account_id
    fleet = get_across_tenants(session, FleetAccount, fleet_id) if fleet_id else None
    if fleet is not None:
        return _l("AutoPassport – %(fleet)s", fleet=fleet.name)
    return _l("AutoPassport – my vehicles")


def _garage_words(garage) -> str:
    if garage.phone:
        return str(_l("Garage: %(garage)s, %(phone)s", garage=garage.name, phone=garage.phone))
    return str(_l("Garage: %(garage)s", garage=garage.name))


def note_fetch(session: Session, feed: CalendarFeed, *, now: dt.datetime | None = None) -> bool:
    """Remember when a calendar app last fetched the feed (shown to its subscriber), at
    most once an hour. Returns whether it wrote; the caller commits."""
    now = now or utcnow()
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < NOTE_FETCH_EVERY:
        return False
    feed.last_fetched_at = now
    session.flush()
    return True
