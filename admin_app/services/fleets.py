"""Fleet accounts (R-FL-1…6): create one for a fleet manager, link and unlink cars.

A fleet account belongs to the garage that made it and hangs on the fleet manager's own
(activated) passport; the manager logs in with the account's e-mail and sets his password
through a mailed link — no password is ever mailed or shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.models import ConsoleUser, FleetAccount, InspectionForm, Passport
from admin_app.models.passports import PassportState
from admin_app.roles import ADMIN, FLEET_MANAGER, GARAGE
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services import accounts, vehicle_values
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key, normalize_email
from admin_app.services.passports import lock_passport, require
from admin_app.services.recalls import open_recalls


def _require_garage(actor: Actor, garage_id: int) -> None:
    if not (actor.has(GARAGE) and actor.garage_id == garage_id) and not actor.has(ADMIN):
        raise Forbidden(_l("Only the garage of this passport manages its fleet accounts."))


def get_fleet(session: Session, fleet_account_id) -> FleetAccount:
    fleet = scoped_get(session, FleetAccount, fleet_account_id)
    if fleet is None:
        raise NotFound(_l("Not found."))
    return fleet


def _email_free(session: Session, email: str, *, fleet: FleetAccount | None = None) -> None:
    """An account's e-mail is its login: used by no other fleet account or login."""
    key = email_key(email)
    other_fleet = session.scalar(
        select(FleetAccount.id)
        .where(func.lower(FleetAccount.email) == key)
        .execution_options(**{ALL_TENANTS: True})
    )
    login = session.scalars(
        select(ConsoleUser)
        .where(func.lower(ConsoleUser.email) == key)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    # The account's login takes the address as its user name too, and a user name keeps
    # the address it was made with when that login's e-mail changes later.
    named = session.scalars(
        select(ConsoleUser)
        .where(func.lower(ConsoleUser.username) == key)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    mine = fleet is not None and (
        other_fleet == fleet.id or (login is not None and login.fleet_account_id == fleet.id)
    )
    name_taken = named is not None and (fleet is None or named.fleet_account_id != fleet.id)
    if ((other_fleet or login is not None) and not mine) or name_taken:
        raise Conflict(
            _l(
                "This e-mail address is in use already; fleet accounts need an "
                "address of their own."
            ),
            field="email",
        )


def create_fleet_account(
    session: Session, *, actor: Actor, name: str, email: str, manager_passport_id
) -> FleetAccount:
    """R-FL-1/2: from the fleet manager's own activated passport; a welcome mail with a
    set-password link goes to the account's e-mail (which may first be the garage's own)."""
    name = (name or "").strip()
    errors: dict[str, list] = {}
    if not name:
        errors["name"] = [_l("Fill in the company name.")]
    try:
        email = normalize_email(email)
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(_l("Some fields are not correct."), errors=errors)
    try:
        # Locked: whether it is activated, in a fleet or a manager already stays so.
        passport = lock_passport(session, int(manager_passport_id))
    except (TypeError, ValueError, NotFound):
        raise InvalidInput(
            _l("Choose the fleet manager's own passport."), field="manager_passport_id"
        ) from None
    _require_garage(actor, passport.garage_id)
    if passport.state != PassportState.activated.value:
        raise Conflict(
            _l("The fleet manager's passport must be activated first."), field="manager_passport_id"
        )
    if passport.fleet_account_id:
        raise Conflict(
            _l("A passport in a fleet cannot manage one; unlink it first."),
            field="manager_passport_id",
        )
    if email_key(email) == email_key(passport.owner.email):
        raise InvalidInput(
            _l(
                "The fleet account needs an e-mail address other than the one "
                "of the fleet manager's own passport."
            ),
            field="email",
        )
    managed = session.scalar(
        select(FleetAccount.id)
        .where(FleetAccount.manager_passport_id == passport.id)
        .execution_options(**{ALL_TENANTS: True})
    )
    if managed:
        raise Conflict(
            _l("This passport manages a fleet account already."), field="manager_passport_id"
        )
    _email_free(session, email)
    fleet = FleetAccount(
        garage_id=passport.garage_id, name=name, email=email, manager_passport_id=passport.id
    )
    session.add(fleet)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            _l(
                "This e-mail address is in use already; fleet accounts need an "
                "address of their own."
            ),
            field="email",
        ) from None
    user = accounts.create_login(
        session,
        username=email_key(email),
        email=email,
        first_name=name,
        last_name=name,
        role_name=FLEET_MANAGER,
        fleet_account_id=fleet.id,
    )
    accounts.mail_password_link(session, user, welcome=True, garage_id=fleet.garage_id)
    return fleet


def change_fleet_email(
    session: Session, fleet_account_id, new_email: str, *, actor: Actor
) -> FleetAccount:
    """R-FL-2: the account (and its login) moves to a new address, which gets the mail."""
    fleet = get_fleet(session, fleet_account_id)
    _require_garage(actor, fleet.garage_id)
    email = normalize_email(new_email)
    if email_key(email) == email_key(fleet.email):
        return fleet
    manager = fleet.manager_passport
    if manager is not None and email_key(email) == email_key(manager.owner.email):
        raise InvalidInput(
            _l(
                "The fleet account needs an e-mail address other than the one "
                "of the fleet manager's own passport."
            ),
            field="email",
        )
    _email_free(session, email, fleet=fleet)
    fleet.email = email
    login = session.scalars(
        select(ConsoleUser)
        .where(ConsoleUser.fleet_account_id == fleet.id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if login is None:
        login = accounts.create_login(
            session,
            username=email_key(email),
            email=email,
            first_name=fleet.name,
            last_name=fleet.name,
            role_name=FLEET_MANAGER,
            fleet_account_id=fleet.id,
        )
    else:
        login.email = email
        login.username = email_key(email)
        login.password = None  # the new address chooses the password
    session.flush()
    accounts.mail_password_link(session, login, welcome=True, garage_id=fleet.garage_id)
    return fleet


def rename_fleet(session: Session, fleet_account_id, name: str, *, actor: Actor) -> FleetAccount:
    fleet = get_fleet(session, fleet_account_id)
    _require_garage(actor, fleet.garage_id)
    if not (name or "").strip():
        raise InvalidInput(_l("Fill in the company name."), field="name")
    fleet.name = name.strip()
    session.flush()
    return fleet


def link_passport(session: Session, passport_id, fleet_account_id, *, actor: Actor) -> Passport:
    """R-FL-3: link an activated passport of the garage to one of its fleet accounts."""
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "link")
    try:
        fleet = get_fleet(session, fleet_account_id)
    except NotFound:
        raise InvalidInput(
            _l("Choose one of your own fleet accounts."), field="fleet_account_id"
        ) from None
    if fleet.garage_id != passport.garage_id:
        raise InvalidInput(_l("Choose one of your own fleet accounts."), field="fleet_account_id")
    if passport.fleet_account_id == fleet.id:
        raise Conflict(_l("This car is linked to this fleet account already."))
    passport.fleet_account_id = fleet.id
    session.flush()
    return passport


def unlink_passport(session: Session, passport_id, *, actor: Actor) -> Passport:
    passport = lock_passport(session, passport_id)
    _require_garage(actor, passport.garage_id)
    if passport.state == PassportState.transfer_pending.value:
        raise Conflict(
            _l("A transfer of this car is waiting; it leaves the fleet when it is accepted.")
        )
    if not passport.fleet_account_id:
        raise Conflict(_l("This car is not linked to a fleet account."))
    passport.fleet_account_id = None
    session.flush()
    return passport


def fleet_for_name(session: Session, name: str) -> FleetAccount | None:
    """The autocomplete's answer: the garage's own fleet account with this name."""
    return session.scalars(
        select(FleetAccount).where(func.lower(FleetAccount.name) == (name or "").strip().lower())
    ).first()


# --- the fleet manager's dashboard (R-FL-5) ------------------------------------------------

DUE_SOON_DAYS = 30
PAGE_SIZE = 50
# The export holds every car that matches, on one "page": a fleet is hundreds of cars.
MAX_FLEET_EXPORT = 100_000
OVERDUE, DUE_SOON = "overdue", "soon"
# What the dashboard filters and sorts by; anything else in a URL falls back to the first.
SHOWS = ("all", OVERDUE, DUE_SOON, "advice", "recall")
SORTS = ("plate", "apk_expiry", "next_service", "advice", "recall")


def due_status(day: dt.date | None, today: dt.date) -> str | None:
    """A maintenance date as the dashboard marks it: passed (overdue), within 30 days
    (soon, today and day 30 included), or nothing to mark (later, or unknown)."""
    if day is None:
        return None
    if day < today:
        return OVERDUE
    if day <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return DUE_SOON
    return None


@dataclass
class DashboardRow:
    passport: Passport
    apk_status: str | None
    service_status: str | None
    advice: list[str]  # descriptions of the advice items on the car's last saved form
    advice_date: dt.date | None
    recalls: list
    # Brand, model and APK expiry as they count (typed, else the register's; issue 18).
    car: vehicle_values.CarValues


@dataclass
class DashboardPage:
    rows: list[DashboardRow]
    total: int  # cars that match the filter
    fleet_total: int  # all live cars in the fleet
    page: int  # 0-based
    pages: int
    show: str
    sort: str


def fleet_dashboard(
    session: Session,
    fleet_account_id: int | None,
    *,
    today: dt.date,
    show: str = "all",
    sort: str = "plate",
    page: int = 0,
    page_size: int = PAGE_SIZE,
) -> DashboardPage:
    """The fleet's live cars as its dashboard shows them (through the row scope, which
    leaves a fleet manager exactly his fleet's passports), filtered by ``show``, sorted by ``sort``,
    one page of ``page_size``; each row with its APK and service marks, the advice of its
    last saved inspection form and its open recalls.

    A fleet is hundreds of cars, not a garage's 50,000: the filter and sort run over one
    narrow row per car, and advice and recalls take one query each for the whole fleet,
    whatever the page, and so do the register's values (issue 18: the APK expiry that counts
    marks, filters and sorts) — 5 queries in all. Unknown ``show``/``sort`` fall back to
    the first.
    """
    show = show if show in SHOWS else SHOWS[0]
    sort = sort if sort in SORTS else SORTS[0]
    cars, chosen, advice, recalls, values = _chosen_cars(
        session, fleet_account_id, today, show, sort
    )
    pages = max(1, -(-len(chosen) // page_size))
    page = min(max(page, 0), pages - 1)
    ids = [car.id for car in chosen[page * page_size : (page + 1) * page_size]]
    loaded = {
        p.id: p for p in session.scalars(select(Passport).where(Passport.id.in_(ids))).unique()
    }
    rows = []
    for passport in (loaded[i] for i in ids if i in loaded):
        advice_date, items = advice.get(passport.id, (None, []))
        rows.append(
            DashboardRow(
                passport=passport,
                apk_status=due_status(values[passport.id].apk_expiry.value, today),
                service_status=due_status(passport.next_service, today),
                advice=items,
                advice_date=advice_date,
                recalls=recalls.get(passport.plate, []),
                car=values[passport.id],
            )
        )
    return DashboardPage(rows, len(chosen), len(cars), page, pages, show, sort)


def _chosen_cars(session: Session, fleet_account_id: int | None, today: dt.date, show, sort):
    """The fleet's live cars (one narrow row each), those matching ``show`` in ``sort``'s
    order, and the advice, recalls and vehicle values they were judged by."""
    cars = session.execute(
        select(
            Passport.id, Passport.plate, *vehicle_values.typed_columns(), Passport.next_service
        ).where(
            # A login without a fleet (Admin opening the page) has no fleet to show.
            Passport.fleet_account_id == (fleet_account_id or -1),
            Passport.state != PassportState.archived.value,
        )
    ).all()
    advice = last_form_advice(session, [car.id for car in cars])
    recalls = open_recalls(session, [car.plate for car in cars])
    values = vehicle_values.values_of(session, cars)

    def apk_expiry(car) -> dt.date | None:
        return values[car.id].apk_expiry.day

    def matches(car) -> bool:
        marks = (due_status(apk_expiry(car), today), due_status(car.next_service, today))
        return {
            "all": True,
            OVERDUE: OVERDUE in marks,
            DUE_SOON: DUE_SOON in marks,
            "advice": bool(advice.get(car.id, (None, []))[1]),
            "recall": car.plate in recalls,
        }[show]

    far = dt.date.max
    keys = {
        "plate": lambda car: car.plate,
        "apk_expiry": lambda car: (apk_expiry(car) or far, car.plate),
        "next_service": lambda car: (car.next_service or far, car.plate),
        "advice": lambda car: (not advice.get(car.id, (None, []))[1], car.plate),
        "recall": lambda car: (car.plate not in recalls, car.plate),
    }
    chosen = sorted((car for car in cars if matches(car)), key=keys[sort])
    return cars, chosen, advice, recalls, values


def last_form_advice(
    session: Session, passport_ids: list[int]
) -> dict[int, tuple[dt.date, list[str]]]:
    """Per passport, the inspection date and advice descriptions of its last saved form
    (by inspection date, then the latest made). One query for all the ids.

    Read across garages' forms by name (ALL_TENANTS): a fleet manager's scope holds no
    forms, and the ids come from his own scoped passports, which authorizes them. Only the
    advice part of the content is read, never the customer block."""
    if not passport_ids:
        return {}
    ranked = (
        select(
            InspectionForm.id,
            func.row_number()
            .over(
                partition_by=InspectionForm.passport_id,
                order_by=(InspectionForm.inspection_date.desc(), InspectionForm.id.desc()),
            )
            .label("rank"),
        )
        .where(InspectionForm.passport_id.in_(passport_ids), InspectionForm.version > 0)
        .subquery()
    )
    found = session.execute(
        select(
            InspectionForm.passport_id,
            InspectionForm.inspection_date,
            InspectionForm.content["advice"],
        )
        .join(ranked, ranked.c.id == InspectionForm.id)
        .where(ranked.c.rank == 1)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    return {
        passport_id: (
            day,
            [str(item.get("description") or "") for item in items or [] if isinstance(item, dict)],
        )
        for passport_id, day, items in found
    }
