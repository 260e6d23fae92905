"""Passports (R-PP-1…8): create, send, activate, correct the e-mail, archive, move.

Every function takes the session first and the actor as an argument, flushes but never
commits, and raises the domain errors of domain/errors.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.domain.dates import optional_date_field
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.domain.plates import display_plate, validate_plate
from admin_app.models import (
    AccessToken,
    ConsoleUser,
    Customer,
    FleetAccount,
    Garage,
    OutboxMessage,
    Passport,
    PassportClaim,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.models.customers import CONTACT_FIELDS
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.roles import ADMIN, FLEET_MANAGER, GARAGE, OWNER, SUPPORT
from admin_app.scope import ALL_TENANTS, get_across_tenants, scoped_get
from admin_app.services import accounts, vehicle_values, webhooks
from admin_app.services.audit import Actor
from admin_app.services.bulk import is_postgresql
from admin_app.services.emails import email_key, normalize_email
from admin_app.services.outbox import queue_mail
from admin_app.services.tokens import NOT_VALID, check_addressed_to, consume_token, peek_token

ACTIVATION = "activation"
ACTIVATION_TTL = timedelta(days=7)


@dataclass
class PersonDetails:
    """An owner's or driver's contact details as typed, checked by ``validated()``."""

    email: str = ""
    last_name: str = ""
    first_name: str = ""
    infix: str = ""
    street: str = ""
    house_number: str = ""
    postcode: str = ""
    city: str = ""
    phone: str = ""
    customer_number: str = ""

    @classmethod
    def from_mapping(cls, data) -> PersonDetails:
        names = {f.name for f in fields(cls)}
        return cls(**{k: _text(v) for k, v in (data or {}).items() if k in names})

    def validated(self) -> PersonDetails:
        """Normalized e-mail and a last name, or InvalidInput naming every bad field."""
        errors: dict[str, list] = {}
        try:
            self.email = normalize_email(self.email)
        except InvalidInput as error:
            errors.update(error.errors)
        if not self.last_name:
            errors["last_name"] = [_l("Fill in the last name.")]
        if errors:
            raise InvalidInput(_l("Some fields are not correct."), errors=errors)
        return self

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.infix, self.last_name) if p)


@dataclass
class VehicleDetails:
    """The car as typed when its passport is created; what was left empty the register
    answers (services/vehicle_values.py), it is not copied in."""

    brand: str = ""
    model: str = ""
    apk_expiry: dt.date | None = None
    fuel: str = ""
    first_registration: dt.date | None = None

    @classmethod
    def from_mapping(cls, data) -> VehicleDetails:
        data = data or {}
        return cls(
            brand=_text(data.get("brand")),
            model=_text(data.get("model")),
            apk_expiry=optional_date_field(data.get("apk_expiry"), field="apk_expiry"),
            fuel=_text(data.get("fuel")),
            first_registration=optional_date_field(
                data.get("first_registration"), field="first_registration"
            ),
        )

    def typed(self) -> dict:
        """Field → the typed value, None where nothing was typed."""
        return {
            "brand": self.brand or None,
            "model": self.model or None,
            "fuel": self.fuel or None,
            "first_registration": self.first_registration,
            "apk_expiry": self.apk_expiry,
        }


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# --- looking things up -------------------------------------------------------------------


def get_passport(session: Session, passport_id: int) -> Passport:
    """The passport, if the caller's scope holds it; NotFound otherwise (R-SEC-1)."""
    passport = scoped_get(session, Passport, passport_id)
    if passport is None:
        raise NotFound(_l("Not found."))
    return passport


def lock_passport(session: Session, passport_id, *, across_tenants: bool = False) -> Passport:
    """The passport, locked until the transaction ends and read afresh (issue 13, R-TR-5).

    Every rule that changes a passport's state — or its transfers, fleet link or owner —
    calls this first and only then checks the state it depends on: of five requests at
    once one changes the passport and the other four find the changed state (409), instead
    of all five passing their checks on the state they read before any of them wrote.
    NotFound outside the caller's scope; ``across_tenants`` for a caller authorized
    otherwise (a mailed link, a job).

    PostgreSQL: ``SELECT … FOR UPDATE`` on the passport row; a second locker waits for the
    first to commit and then reads the committed row (READ COMMITTED). SQLite has no row
    locks and one writer per database: a no-op UPDATE of the row takes the database's write
    lock at once (as BEGIN IMMEDIATE would), and it is the transaction's first write, so no
    read transaction has to be upgraded (which SQLite refuses while another writer waits).
    The next locker's UPDATE waits in SQLite's busy timeout until the first commits.
    Either way the row count says whether the scope holds the passport, and the passport is
    loaded after the lock with ``populate_existing``: values read before are replaced.
    """
    try:
        ident = int(passport_id)
    except (TypeError, ValueError):
        raise NotFound(_l("Not found.")) from None
    options = {ALL_TENANTS: True} if across_tenants else {}
    if is_postgresql(session):
        held = session.scalar(
            select(Passport.id)
            .where(Passport.id == ident)
            .with_for_update()
            .execution_options(**options)
        )
    else:
        held = session.execute(
            update(Passport)
            .where(Passport.id == ident)
            .values(state=Passport.state)
            .execution_options(synchronize_session=False, **options)
        ).rowcount
    if not held:
        raise NotFound(_l("Not found."))
    if session.identity_map.get(session.identity_key(Passport, ident)) is not None:
        # Loaded before in this session: its values are refreshed, and the lock has just
        # shown the scope holds the row, so the read may skip the scope — which keeps the
        # loader criteria the object was first loaded with (populate_existing under this
        # scope would replace them, and a later refresh would then look for a row that
        # has left the scope, e.g. a car that left its fleet).
        options = {ALL_TENANTS: True}
    return (
        session.scalars(
            select(Passport)
            .where(Passport.id == ident)
            .execution_options(populate_existing=True, **options)
        )
        .unique()
        .one()
    )


def live_passport_with_plate(session: Session, plate: str) -> Passport | None:
    """The live passport with this plate on the whole platform, whoever asks."""
    return session.scalars(
        select(Passport)
        .where(Passport.plate == plate, Passport.state != PassportState.archived.value)
        .execution_options(**{ALL_TENANTS: True})
    ).first()


def assert_plate_free(session: Session, plate: str, *, garage_id: int) -> None:
    """R-PP-8/R-BJ-2: one live passport per plate; another garage is never named."""
    other = live_passport_with_plate(session, plate)
    if other is None:
        return
    if other.garage_id == garage_id:
        raise Conflict(
            _l("%(plate)s already has a passport at your garage.", plate=display_plate(plate)),
            field="plate",
        )
    raise Conflict(
        _l(
            "%(plate)s already has an active passport at another garage. Ask the owner or "
            "support to have it moved.",
            plate=display_plate(plate),
        ),
        field="plate",
    )


def find_or_create_customer(session: Session, garage_id: int, person: PersonDetails) -> Customer:
    """The garage's customer with this e-mail (case-insensitive), or a new one.

    An existing profile keeps what it has; empty fields are filled from ``person``.
    """
    customer = session.scalars(
        select(Customer)
        .where(
            Customer.garage_id == garage_id, func.lower(Customer.email) == email_key(person.email)
        )
        .order_by(Customer.id)
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if customer is None:
        customer = Customer(garage_id=garage_id, email=person.email)
        session.add(customer)
    for name in CONTACT_FIELDS:
        value = getattr(person, name)
        if value and not getattr(customer, name):
            setattr(customer, name, value)
    return customer


def owner_login(session: Session, email: str) -> ConsoleUser | None:
    """The platform's one Owner login for this e-mail, if there is one."""
    return session.scalars(
        select(ConsoleUser)
        .where(func.lower(ConsoleUser.email) == email_key(email))
        .execution_options(**{ALL_TENANTS: True})
    ).first()


def was_transferred(session: Session, passport: Passport) -> bool:
    return session.scalar(
        select(
            exists().where(
                Transfer.passport_id == passport.id,
                Transfer.kind == "owner",
                Transfer.state == TransferState.accepted.value,
            )
        ).execution_options(**{ALL_TENANTS: True})
    )


def _garage_fleet(session: Session, garage_id: int, fleet_account_id) -> int | None:
    if fleet_account_id in (None, "", 0):
        return None
    fleet = scoped_get(session, FleetAccount, int(fleet_account_id))
    if fleet is None or fleet.garage_id != garage_id:
        raise InvalidInput(_l("Choose one of your own fleet accounts."), field="fleet_account_id")
    return fleet.id


# --- create (R-PP-1, 2, 3, 6) ------------------------------------------------------------


def create_passport(
    session: Session,
    *,
    actor: Actor,
    plate: str,
    person: PersonDetails,
    vehicle: VehicleDetails | None = None,
    fleet_account_id=None,
    via: str = "manual",
) -> Passport:
    """A new passport of the actor's garage.

    With the garage's own login e-mail it is a stock car: activated at once, no mail
    (R-PP-3). Otherwise it waits, unsent, until someone sends it (R-PP-4).
    """
    if not actor.garage_id:
        raise Forbidden(_l("Only a garage creates passports."))
    garage = scoped_get(session, Garage, actor.garage_id)
    stock = email_key(person.email or "") == email_key(garage.email)
    if stock:
        person.last_name = person.last_name or garage.name
    errors: dict[str, list] = {}
    normalized = None
    try:
        normalized = validate_plate(plate)
    except InvalidInput as error:
        errors.update(error.errors)
    try:
        person.validated()
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(_l("Some fields are not correct."), errors=errors)
    vehicle = vehicle or VehicleDetails()
    fleet_id = _garage_fleet(session, garage.id, fleet_account_id)
    assert_plate_free(session, normalized, garage_id=garage.id)

    owner = find_or_create_customer(session, garage.id, person)
    passport = Passport(
        garage_id=garage.id,
        plate=normalized,
        owner=owner,
        # Only what was typed and differs from the register (issue 18): the rest is read
        # from the register, which the nightly refresh keeps current.
        **vehicle_values.untyped_if_registered(session, normalized, vehicle.typed()),
        fleet_account_id=fleet_id,
        stock_car=stock,
        created_via=via,
        state=PassportState.activated.value if stock else PassportState.created.value,
        activated_at=utcnow() if stock else None,
    )
    session.add(passport)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Someone registered the plate between our check and this insert.
        raise Conflict(
            _l("%(plate)s already has an active passport.", plate=display_plate(normalized)),
            field="plate",
        ) from None
    webhooks.emit(session, garage.id, "passport.created", lambda: webhooks.passport_data(passport))
    return passport


# What the profile and PUT /passport/<id> change of the car itself (R-PP-1), by kind.
VEHICLE_TEXT = ("brand", "model", "fuel")
VEHICLE_DATES = ("first_registration", "apk_expiry", "next_service", "mobility_renewal")
VEHICLE_FIELDS = (*VEHICLE_TEXT, *VEHICLE_DATES, "odometer")
PERSON_FIELDS = ("email", *CONTACT_FIELDS)
SOME_FIELDS_WRONG = _l("Some fields are not correct.")


def update_passport(session: Session, passport_id: int, data, *, actor: Actor) -> Passport:
    """Change the fields given, from the profile's edit form or API PUT (R-PP-1): the
    vehicle (VEHICLE_FIELDS), the owner's contact details (update_customer), his e-mail
    (R-PP-7, change_customer_email) and the fleet account.

    Refused unless the actor may "edit" the passport (allowed_actions). Every field is
    checked before anything is written, and InvalidInput names each bad one; only fields
    whose value changes are written, so the audit log holds exactly those (old → new).
    The plate is the passport's identity and is not changed here.
    """
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "edit")
    data = data or {}
    vehicle, person_data = checked_changes(passport, data)
    _follow_fleet_choice(session, passport, data, actor=actor)
    if person_data:
        update_customer(session, passport.owner_id, person_data, actor=actor)
    _write_vehicle(session, passport, vehicle)
    session.flush()
    return passport


def checked_changes(passport: Passport, data: dict) -> tuple[dict, dict]:
    """The vehicle's values to store and the owner's fields of ``data``, every one checked
    before anything is written; InvalidInput naming each bad field."""
    errors: dict[str, list] = {}
    if "plate" in data:
        _collect(errors, _keep_plate, passport, data["plate"])
    vehicle = {
        name: _collect(errors, _vehicle_value, name, data[name])
        for name in VEHICLE_FIELDS
        if name in data
    }
    person_data = {k: v for k, v in data.items() if k in PERSON_FIELDS}
    if person_data:
        _collect(errors, contact_changes, passport.owner, person_data)
    if "email" in person_data:
        _collect(errors, _checked_email, person_data["email"])
    if errors:
        raise InvalidInput(SOME_FIELDS_WRONG, errors=errors)
    return vehicle, person_data


def _collect(errors: dict, check, *args):
    """``check(*args)``, its InvalidInput's fields added to ``errors`` (then None)."""
    try:
        return check(*args)
    except InvalidInput as error:
        errors.update(error.errors)
        return None


def _keep_plate(passport: Passport, typed) -> None:
    if validate_plate(_text(typed)) != passport.plate:
        raise InvalidInput(
            _l("The plate of a passport cannot change; archive it and create a new one."),
            field="plate",
        )


def _checked_email(typed) -> str:
    return normalize_email(
        _single_line(typed, field="email", max_length=_column_length(Customer, "email"))
    )


def _follow_fleet_choice(session: Session, passport: Passport, data: dict, *, actor: Actor):
    """Link to the fleet account chosen, or unlink (an empty choice), if it changed."""
    if "fleet_account_id" not in data or data["fleet_account_id"] == passport.fleet_account_id:
        return
    from admin_app.services import fleets  # fleets builds on this module

    if data["fleet_account_id"] in (None, "", 0):
        fleets.unlink_passport(session, passport.id, actor=actor)
    else:
        fleets.link_passport(session, passport.id, data["fleet_account_id"], actor=actor)


def _write_vehicle(session: Session, passport: Passport, vehicle: dict) -> None:
    """Only the values that change, so the audit log holds those. A value typed as the
    register has it becomes the register's (issue 18)."""
    vehicle = vehicle_values.untyped_if_registered(session, passport.plate, vehicle)
    for name, value in vehicle.items():
        if getattr(passport, name) != value:
            setattr(passport, name, value)


def cars_of_customer(session: Session, customer_id: int) -> list[tuple[Passport, str]]:
    """The customer's cars in the caller's scope, each with OWNER_CLAIM or DRIVER_CLAIM:
    the live ones first, newest first."""
    cars = session.scalars(
        select(Passport)
        .where(or_(Passport.owner_id == customer_id, Passport.driver_id == customer_id))
        .order_by((Passport.state == PassportState.archived.value), Passport.id.desc())
    ).unique()
    return [(car, OWNER_CLAIM if car.owner_id == customer_id else DRIVER_CLAIM) for car in cars]


def shared_by(session: Session, passport: Passport) -> int:
    """How many live cars carry this passport's owner's details (his name, address,
    phone, customer number): a change on one profile shows on all of them."""
    return session.scalar(
        select(func.count(Passport.id)).where(
            or_(Passport.owner_id == passport.owner_id, Passport.driver_id == passport.owner_id),
            Passport.state != PassportState.archived.value,
        )
    )


# Odometer readings as a garage writes them: 168702, 168.702, 168,702 or 168 702, "km"
# after it or not; "12k" or "ca. 80.000" are refused rather than guessed.
_KILOMETRES = re.compile(r"^(\d{1,3}(?:[., ]\d{3})+|\d+)(?:\s*km)?$", re.IGNORECASE)
MAX_ODOMETER = 3_000_000  # as services/inspections: beyond any car's life


def parse_odometer(value, *, field: str = "odometer") -> int | None:
    """Kilometres as typed (see _KILOMETRES) or a JSON whole number; empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _KILOMETRES.match(_text(value)) if isinstance(value, str) else None
        number = int(re.sub(r"\D", "", match.group(1))) if match else -1
    if not 0 <= number <= MAX_ODOMETER:
        raise InvalidInput(
            _l(
                "'%(value)s' is not an odometer reading; type the kilometres in digits, "
                "e.g. 168702.",
                value=_shown(value),
            ),
            field=field,
        )
    return number


# Dutch postcodes: four digits (not starting with 0) and two letters, stored as "1234 AB".
_POSTCODE = re.compile(r"^([1-9]\d{3})\s*([A-Za-z]{2})$")


def normalize_postcode(value) -> str:
    """ "1234ab" → "1234 AB"; empty stays empty; anything else is refused."""
    text = _text(value)
    if not text:
        return ""
    match = _POSTCODE.match(text)
    if match is None:
        raise InvalidInput(
            _l(
                "'%(value)s' is not a Dutch postcode; type four digits and two letters, "
                "e.g. 1234 AB.",
                value=_shown(text),
            ),
            field="postcode",
        )
    return f"{match.group(1)} {match.group(2).upper()}"


def _vehicle_value(name: str, value):
    """One vehicle field's value to store, or InvalidInput naming the field."""
    if name == "odometer":
        return parse_odometer(value)
    if name in VEHICLE_DATES:
        if isinstance(value, dt.date):
            return value
        date = optional_date_field(_single_line(value, field=name), field=name)
        if date is not None and not 1900 <= date.year <= 2199:
            # Not a typing error a garage makes knowingly ("0024-05-01" for 2024).
            raise InvalidInput(
                _l("'%(value)s' is not a date; use YYYY-MM-DD or DD-MM-YYYY.", value=_shown(value)),
                field=name,
            )
        return date
    return _single_line(value, field=name, max_length=_column_length(Passport, name)) or None


def _column_length(model, name: str) -> int:
    return model.__table__.c[name].type.length


def _single_line(value, *, field: str, max_length: int = 100) -> str:
    """Text of one line that fits its column. A NUL (which PostgreSQL refuses in text: a
    500), another control character, a list or a number is refused with the field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_l("This must be text."), field=field)
    text = value.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidInput(
            _l("This may hold no tabs, line breaks or control characters."), field=field
        )
    if len(text) > max_length:
        raise InvalidInput(_l("At most %(count)s characters.", count=max_length), field=field)
    return text


def _shown(value) -> str:
    """A refused value quoted back, at most as long as a field on the screen."""
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


# --- send and activate (R-PP-4) ----------------------------------------------------------


def send_passport(session: Session, passport_id: int, *, actor: Actor) -> Passport:
    """Mail the owner an activation link (single use, 7 days); resending voids the last.

    A resend within a minute of a send to the same address is refused (409): the send is
    one change, made once, whether it is clicked twice, retried or sent five times at once.
    """
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "send")
    if passport.state == PassportState.sent.value and _just_sent(session, passport):
        raise Conflict(
            _l(
                "This passport was sent to %(email)s a moment ago; the mail is on its way. "
                "Send it again after a minute if it does not arrive.",
                email=passport.owner.email,
            )
        )
    mail_activation_link(session, passport)
    webhooks.emit(
        session, passport.garage_id, "passport.sent", lambda: webhooks.passport_data(passport)
    )
    return passport


RESEND_PAUSE = timedelta(minutes=1)


def _just_sent(session: Session, passport: Passport) -> bool:
    """Sent within RESEND_PAUSE, and an activation mail went to the owner's current
    address since: a corrected address may be sent to at once (R-BJ-7)."""
    since = utcnow() - RESEND_PAUSE
    if passport.sent_at is None or passport.sent_at < since:
        return False
    return session.scalar(
        select(
            exists().where(
                func.lower(OutboxMessage.recipient) == email_key(passport.owner.email),
                OutboxMessage.kind == "activation",
                OutboxMessage.garage_id == passport.garage_id,
                OutboxMessage.created_at >= since,
            )
        ).execution_options(**{ALL_TENANTS: True})
    )


def mail_activation_link(session: Session, passport: Passport) -> Passport:
    """Queue the activation mail for a passport the caller already holds and may send."""
    with force_locale("nl"):  # customers get Dutch mail, whatever the sender's screen says
        subject = activation_subject(passport.plate_display, passport.garage.name)
    queue_mail(
        session,
        recipient=passport.owner.email,
        kind="activation",
        subject=subject,
        params={"passport_id": passport.id},
        garage_id=passport.garage_id,
    )
    passport.state = PassportState.sent.value
    passport.sent_at = utcnow()
    passport.owner.email_bounced_at = None
    session.flush()
    return passport


def activation_subject(plate: str, garage: str) -> str:
    return str(_l("Your AutoPassport for %(plate)s from %(garage)s", plate=plate, garage=garage))


def passport_for_activation(session: Session, raw: str) -> Passport:
    token = peek_token(session, raw, purpose=ACTIVATION)
    # The link is the authorization: its holder needs no login and no scope.
    passport = get_across_tenants(session, Passport, token.subject_id)
    if passport is None or passport.state == PassportState.archived.value:
        raise InvalidInput(NOT_VALID)
    check_addressed_to(token, passport.owner.email)
    return passport


def login_for_link(session: Session, token: AccessToken) -> ConsoleUser | None:
    """The login a link of an Owner's may act for: the one of its address (if any).

    A link made while another login had the address acts for nobody."""
    login = owner_login(session, token.recipient)
    if token.user_id is not None and (login is None or login.id != token.user_id):
        raise InvalidInput(NOT_VALID)
    return login


def asks_own_password(login: ConsoleUser | None) -> bool:
    """Whether a link to this login's address asks for the password it has (rather than
    letting its holder choose one for a new login): identify_link_holder's rule."""
    return login is not None and bool(login.password)


def identify_link_holder(
    session: Session,
    token: AccessToken,
    customer: Customer,
    *,
    password: str | None,
    confirm: str | None,
) -> ConsoleUser:
    """The login the holder of a link mailed to ``customer`` proves to be his.

    Without a login at the address, he chooses its password and the Owner login is made.
    With one, he types that login's password: a link alone never logs anyone in to an
    existing login, nor sets its password. The caller then lets him claim the car.
    """
    login = login_for_link(session, token)
    if login is not None and OWNER not in {r.name for r in login.roles}:
        raise Conflict(
            _l(
                "This e-mail address belongs to a staff login; ask the garage to "
                "use another address."
            )
        )
    if login is None:
        accounts.check_new_password(password or "", confirm)
        login = accounts.create_login(
            session,
            username=email_key(customer.email),
            email=customer.email,
            first_name=customer.first_name or customer.last_name,
            last_name=customer.last_name,
            role_name=OWNER,
            password=password,
        )
    elif not accounts.password_matches(login, password):
        # A login without a password was made by a garage for this address; it is
        # entered through its own set-password mail, never through a car's link.
        raise InvalidInput(
            _l("This is not the password of %(email)s.", email=login.email), field="password"
        )
    return login


OWNER_CLAIM, DRIVER_CLAIM = "owner", "driver"


def claim_car(session: Session, passport_id: int, user_id: int, role: str) -> None:
    """The login that followed a mailed link holds the car as its owner or driver; an
    earlier holder of that role lets go."""
    release_claim(session, passport_id, role)
    session.add(PassportClaim(passport_id=passport_id, role=role, user_id=user_id))
    session.flush()


def release_claim(session: Session, passport_id: int, role: str) -> None:
    """The car has another owner or driver: whoever held it in that role sees it no more."""
    session.execute(
        delete(PassportClaim).where(
            PassportClaim.passport_id == passport_id, PassportClaim.role == role
        )
    )


def holds_car(session: Session, passport_id: int, user_id: int | None, role: str) -> bool:
    claim = session.get(PassportClaim, (passport_id, role))
    return claim is not None and user_id is not None and claim.user_id == user_id


def activate_passport(
    session: Session, raw: str, *, password: str | None, confirm: str | None = None
) -> tuple[ConsoleUser, Passport]:
    """The owner opens his link and claims the car (R-PP-4): a new owner chooses his
    password, one with an Owner login types his (identify_link_holder)."""
    passport = passport_for_activation(session, raw)
    lock_passport(session, passport.id, across_tenants=True)  # the link authorizes
    passport = passport_for_activation(session, raw)  # its checks again, on the locked row
    token = peek_token(session, raw, purpose=ACTIVATION)
    user = identify_link_holder(session, token, passport.owner, password=password, confirm=confirm)
    consume_token(session, raw, purpose=ACTIVATION, address=passport.owner.email)
    claim_car(session, passport.id, user.id, OWNER_CLAIM)
    passport.state = PassportState.activated.value
    passport.activated_at = utcnow()
    session.flush()
    webhooks.emit(
        session, passport.garage_id, "passport.activated", lambda: webhooks.passport_data(passport)
    )
    pending = session.scalars(
        select(Transfer)
        .where(
            Transfer.passport_id == passport.id,
            Transfer.state == TransferState.pending.value,
            Transfer.to_customer_id == passport.owner_id,
        )
        .execution_options(**{ALL_TENANTS: True})
    ).first()
    if pending is not None:
        # A car leaving a fleet for a new e-mail: activating is accepting (R-FL-6).
        from admin_app.services.transfers import complete_transfer

        complete_transfer(session, pending)
    return user, passport


# --- a fleet car's driver (R-FL-5) -------------------------------------------------------

DRIVER_ACCESS = "driver_access"


def give_driver_access(session: Session, passport: Passport, driver: Customer) -> None:
    """The new driver claims the car with a mailed link: he sees it under his Owner login
    once he has logged in (or made his login) through it."""
    with force_locale("nl"):
        subject = str(_l("You drive %(plate)s: your login", plate=passport.plate_display))
    queue_mail(
        session,
        recipient=driver.email,
        kind="driver_access",
        subject=subject,
        params={"passport_id": passport.id, "customer_id": driver.id},
        garage_id=passport.garage_id,
    )


def driver_for_access_link(session: Session, raw: str) -> tuple[Customer, AccessToken]:
    token = peek_token(session, raw, purpose=DRIVER_ACCESS)
    driver = get_across_tenants(session, Customer, token.subject_id)
    if driver is None:
        raise InvalidInput(NOT_VALID)
    check_addressed_to(token, driver.email)
    return driver, token


def grant_driver_access(
    session: Session, raw: str, *, password: str, confirm: str | None = None
) -> ConsoleUser:
    """The driver claims his profile: with a new login, or his existing one's password."""
    driver, token = driver_for_access_link(session, raw)
    user = identify_link_holder(session, token, driver, password=password, confirm=confirm)
    consume_token(session, raw, purpose=DRIVER_ACCESS, address=driver.email)
    driven = session.scalars(
        select(Passport.id)
        .where(Passport.driver_id == driver.id)
        .execution_options(**{ALL_TENANTS: True})  # the link authorizes
    ).all()
    for passport_id in driven:
        claim_car(session, passport_id, user.id, DRIVER_CLAIM)
    return user


# --- the owner's e-mail (R-PP-5, R-PP-7, R-TR-3) -----------------------------------------


def email_locked(session: Session, passport: Passport) -> bool:
    """After activation or a transfer only Support changes the owner's e-mail."""
    if passport.state in (PassportState.activated.value, PassportState.transfer_pending.value):
        return True
    return was_transferred(session, passport)


def change_owner_email(
    session: Session, passport_id: int, new_email: str, *, actor: Actor
) -> Passport:
    """Correct the owner's e-mail: the garage until activation or transfer, then Support."""
    passport = get_passport(session, passport_id)
    require(session, actor, passport, "email")
    change_customer_email(session, passport.owner_id, new_email, actor=actor)
    return passport


def change_customer_email(
    session: Session, customer_id: int, new_email: str, *, actor: Actor
) -> Customer:
    """R-PP-7 for a customer profile: refused to a garage as soon as any of its
    passports is activated or was transferred; always allowed to Support (audited)."""
    customer = scoped_get(session, Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Not found."))
    email = normalize_email(new_email)
    # Each of the customer's cars locked, so that none is activated or transferred between
    # the check below and the change (R-PP-7); in id order, so two changes of one customer
    # wait for each other instead of deadlocking.
    live = session.scalars(
        select(Passport.id)
        .where(Passport.owner_id == customer.id, Passport.state != PassportState.archived.value)
        .order_by(Passport.id)
    ).all()
    passports = [lock_passport(session, passport_id) for passport_id in live]
    passports = [
        p
        for p in passports
        if p.owner_id == customer.id and p.state != PassportState.archived.value
    ]
    if not actor.has(SUPPORT, ADMIN):
        if not actor.has(GARAGE) or actor.garage_id != customer.garage_id:
            raise Forbidden(_l("You may not do this."))
        if any(email_locked(session, p) for p in passports):
            raise Conflict(EMAIL_LOCKED, field="email")
    if email_key(email) != email_key(customer.email):
        clash = session.scalar(
            select(Customer.id)
            .where(
                Customer.garage_id == customer.garage_id,
                Customer.id != customer.id,
                func.lower(Customer.email) == email_key(email),
            )
            .execution_options(**{ALL_TENANTS: True})
        )
        if clash:
            raise Conflict(
                _l("Another customer of this garage already has this e-mail address."),
                field="email",
            )
    customer.email = email
    customer.email_bounced_at = None
    session.flush()
    return customer


def contact_changes(customer: Customer, data) -> dict:
    """The CONTACT_FIELDS of ``data`` that differ from the customer's, checked and
    normalized; InvalidInput naming every bad field. The e-mail is not among them: it
    follows change_customer_email (R-PP-7)."""
    errors: dict[str, list] = {}
    changes = {}
    for name in CONTACT_FIELDS:
        if name not in (data or {}):
            continue
        try:
            value = _single_line(data[name], field=name, max_length=_column_length(Customer, name))
            # A postcode stored before this check is kept as it is until someone changes it.
            if name == "postcode" and value != (customer.postcode or ""):
                value = normalize_postcode(value)
        except InvalidInput as error:
            errors.update(error.errors)
            continue
        if name == "last_name" and not value:
            errors["last_name"] = [_l("Fill in the last name.")]
        elif value != (getattr(customer, name) or ""):
            changes[name] = value or None
    if errors:
        raise InvalidInput(SOME_FIELDS_WRONG, errors=errors)
    return changes


def update_customer(session: Session, customer_id: int, data, *, actor: Actor) -> Customer:
    """Contact details of a profile, shared by all the customer's cars at the garage;
    a new e-mail follows change_customer_email. Only changed fields are written."""
    customer = scoped_get(session, Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Not found."))
    changes = contact_changes(customer, data)
    if changes and not actor.has(GARAGE, ADMIN):
        # Support corrects e-mail addresses, nothing else (SPEC roles).
        raise Forbidden(_l("The support desk corrects e-mail addresses only."))
    if "email" in (data or {}) and email_key(_text(data["email"])) != email_key(customer.email):
        change_customer_email(session, customer.id, data["email"], actor=actor)
    for name, value in changes.items():
        setattr(customer, name, value)
    session.flush()
    return customer


def _customer_fields(customer: Customer) -> dict:
    return {name: getattr(customer, name) or "" for name in PERSON_FIELDS}


# --- archive and move (R-PP-8) -----------------------------------------------------------


def archive_passport(session: Session, passport_id: int, *, actor: Actor) -> Passport:
    """Scrapped, exported or a wrong entry: the plate is free again."""
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "archive")
    from admin_app.services.transfers import settle  # transfers builds on this module

    for transfer in session.scalars(
        select(Transfer).where(
            Transfer.passport_id == passport.id, Transfer.state == TransferState.pending.value
        )
    ):
        settle(transfer, TransferState.cancelled)  # the car goes, and its transfer with it
    passport.state = PassportState.archived.value
    passport.archived_at = utcnow()
    passport.fleet_account_id = None
    session.flush()
    return passport


def unarchive_passport(
    session: Session, passport_id: int, previous_state: str, *, actor: Actor
) -> Passport:
    """Undo an archiving (issue 15): the passport is live again in ``previous_state``, if
    its plate is still free (R-PP-8 freed it; another live passport may hold it now).

    A transfer the archiving cancelled stays cancelled: the car comes back as it was
    before that transfer. Its fleet link stays off; the garage links it again if wanted.
    """
    passport = lock_passport(session, passport_id)
    if not actor.has(GARAGE, ADMIN):
        raise Forbidden(NOT_YOURS)
    if passport.state != PassportState.archived.value:
        raise Conflict(_l("This passport is not archived."))
    if live_passport_with_plate(session, passport.plate) is not None:
        raise Conflict(
            _l(
                "Another live passport has plate %(plate)s now.",
                plate=passport.plate_display,
            )
        )
    if previous_state == PassportState.transfer_pending.value:
        previous_state = (
            PassportState.activated.value if passport.activated_at else PassportState.sent.value
        )
    passport.state = previous_state or PassportState.created.value
    passport.archived_at = None
    session.flush()
    return passport


def move_passport(session: Session, passport_id: int, garage_id: int, *, actor: Actor) -> Passport:
    """Admin and Support move a passport to another garage, with its owner and driver."""
    passport = lock_passport(session, passport_id)
    require(session, actor, passport, "move")
    target = scoped_get(session, Garage, garage_id)
    if target is None:
        raise InvalidInput(_l("Choose a garage."), field="garage_id")
    if target.id == passport.garage_id:
        raise Conflict(_l("The passport is at this garage already."), field="garage_id")
    passport.owner = find_or_create_customer(
        session, target.id, PersonDetails.from_mapping(_customer_fields(passport.owner))
    )
    if passport.driver is not None:
        passport.driver = find_or_create_customer(
            session, target.id, PersonDetails.from_mapping(_customer_fields(passport.driver))
        )
    passport.garage_id = target.id
    # A fleet account belongs to the garage that made it.
    passport.fleet_account_id = None
    session.flush()
    return passport


# --- what an actor may do with a passport (R-PP-4…8, R-TR-1…5, R-FL-3) ------------------
#
# One answer, with the reason for each action he may not take, for the profile (a button
# or its reason), the forms (a GET of a form not allowed goes back to the profile) and the
# services' own checks below (require): the three can no longer disagree.

ACTIONS = ("edit", "send", "transfer", "email", "link", "archive", "move", "cancel_transfer")
NOT_YOURS = _l("You may not do this.")
ARCHIVED = _l("This passport is archived.")
FLEET_LINKED = _l(
    "This car is linked to a fleet account: unlink it first, or ask the fleet manager to "
    "transfer it."
)
EMAIL_LOCKED = _l(
    "This passport is activated or was transferred: only the support desk "
    "can change the owner's e-mail now."
)


@dataclass(frozen=True)
class Refusal:
    """Why an action is not allowed. ``error`` is how a service refuses it: Forbidden when
    the actor's role never may (the profile shows no button and no reason), Conflict when
    it may, only not to this passport now (the profile shows the reason)."""

    reason: object  # a lazily translated message
    error: type = Conflict

    @property
    def for_this_passport(self) -> bool:
        return self.error is not Forbidden

    def refuse(self):
        raise self.error(self.reason)


def allowed_actions(session: Session, actor: Actor, passport: Passport) -> dict:
    """Each of ACTIONS → None when ``actor`` may take it on ``passport`` now, else its
    Refusal. The passport is one in the actor's scope."""
    return {action: _RULES[action](session, actor, passport) for action in ACTIONS}


def refusal_of(session: Session, actor: Actor, passport: Passport, action: str):
    """The Refusal of one of ACTIONS, or None when it is allowed."""
    return _RULES[action](session, actor, passport)


def require(session: Session, actor: Actor, passport: Passport, action: str) -> None:
    """Raise the action's refusal, if it has one."""
    refusal = refusal_of(session, actor, passport, action)
    if refusal is not None:
        refusal.refuse()


def _why_not_edit(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """R-PP-1: the garage that holds the passport, and Admin, change the car's and its
    owner's details. Support corrects e-mail addresses only (SPEC roles); fleet managers
    and owners read."""
    if not (actor.has(ADMIN) or (actor.has(GARAGE) and actor.garage_id == passport.garage_id)):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    return None


def _why_not_send(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if not actor.has(GARAGE, SUPPORT, ADMIN):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)  # not "not activated yet": it may never have been
    if passport.state not in (PassportState.created.value, PassportState.sent.value):
        return Refusal(_l("Only a passport that is not activated yet can be sent."))
    return None


def _why_not_transfer(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """To a new owner, or a fleet car to a new driver: the garage its stock cars, the
    fleet manager his fleet's cars, the owner the car he holds (R-TR-1, R-TR-4, R-FL-5)."""
    who = _who_may_transfer(session, actor, passport)
    if who is not None and not who.for_this_passport:
        return who
    # What became of the car says more than who may transfer it: archived, or a transfer
    # waiting (it is no stock car meanwhile).
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    if passport.state == PassportState.transfer_pending.value:
        return Refusal(_l("A transfer of this car is already waiting for acceptance."))
    if who is not None:
        return who
    if passport.state not in (PassportState.activated.value, PassportState.sent.value):
        return Refusal(_l("Only an active passport can be transferred."))
    return None


def _who_may_transfer(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if passport.fleet_account_id:
        if not actor.has(GARAGE, FLEET_MANAGER, OWNER):
            # Support and Admin never transfer: no reason to show, as on any other car.
            return Refusal(_l("You may not transfer this car."), Forbidden)
        if not (actor.has(FLEET_MANAGER) and actor.fleet_account_id == passport.fleet_account_id):
            return Refusal(FLEET_LINKED)
    elif actor.has(GARAGE) and actor.garage_id == passport.garage_id:
        if not passport.stock_car:
            return Refusal(
                _l(
                    "A garage transfers its stock cars only; the owner transfers "
                    "his own car from “my vehicles” when he sells it."
                )
            )
    elif not (actor.has(OWNER) and holds_car(session, passport.id, actor.id, OWNER_CLAIM)):
        return Refusal(_l("You may not transfer this car."), Forbidden)
    return None


def _why_not_email(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """R-PP-7: the garage until activation or a transfer, Support (and Admin) always."""
    supports = actor.has(SUPPORT, ADMIN)
    if not supports and not (actor.has(GARAGE) and actor.garage_id == passport.garage_id):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    if not supports and email_locked(session, passport):
        return Refusal(EMAIL_LOCKED)
    return None


def _why_not_link(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    """R-FL-3: the garage links its activated cars to its fleet accounts."""
    if not (actor.has(GARAGE) and actor.garage_id == passport.garage_id):
        return Refusal(
            _l("Only the garage of this passport manages its fleet accounts."), Forbidden
        )
    if passport.state != PassportState.activated.value:
        return Refusal(_l("Only an activated passport can be linked to a fleet account."))
    if session.scalar(
        select(FleetAccount.id).where(FleetAccount.manager_passport_id == passport.id)
    ):
        return Refusal(_l("The fleet manager's own passport is not linked to a fleet."))
    return None


def _why_not_archive(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if not actor.has(GARAGE, ADMIN):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(_l("This passport is archived already."))
    return None


def _why_not_move(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    if not actor.has(SUPPORT, ADMIN):
        return Refusal(NOT_YOURS, Forbidden)
    if passport.state == PassportState.archived.value:
        return Refusal(ARCHIVED)
    # A waiting transfer stays with this garage and restores this garage's customer as the
    # owner: moved, the new garage could not cancel it and its expiry crossed garages.
    if pending_transfer(session, passport) is not None:
        return Refusal(
            _l("A transfer of this car is waiting: cancel it first, or wait until it is accepted.")
        )
    return None


def pending_transfer(session: Session, passport: Passport) -> Transfer | None:
    return session.scalars(
        select(Transfer).where(
            Transfer.passport_id == passport.id, Transfer.state == TransferState.pending.value
        )
    ).first()


def _why_not_cancel_transfer(session: Session, actor: Actor, passport: Passport) -> Refusal | None:
    transfer = pending_transfer(session, passport)
    if transfer is None:
        return Refusal(_l("No transfer of this car is waiting."))
    return why_not_cancel(actor, transfer)


def why_not_cancel(actor: Actor, transfer: Transfer) -> Refusal | None:
    """A waiting transfer (in the actor's scope) is cancelled by the garage, Support,
    Admin, the fleet manager, or the owner who started it (R-TR-2)."""
    if transfer.state != TransferState.pending.value:
        return Refusal(_l("Only a transfer that is waiting can be cancelled."))
    staff = actor.has(GARAGE, ADMIN, SUPPORT, FLEET_MANAGER)
    if not staff and not (actor.has(OWNER) and transfer.created_by_id == actor.id):
        return Refusal(_l("Only the one who started this transfer cancels it."), Forbidden)
    return None


_RULES = {
    "edit": _why_not_edit,
    "send": _why_not_send,
    "transfer": _why_not_transfer,
    "email": _why_not_email,
    "link": _why_not_link,
    "archive": _why_not_archive,
    "move": _why_not_move,
    "cancel_transfer": _why_not_cancel_transfer,
}
