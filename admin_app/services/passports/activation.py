"""Sending a passport and the mailed links (R-PP-4, R-FL-5): the activation link, the
login its holder proves to be his, and a fleet car's new driver's access link.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Conflict, InvalidInput
from admin_app.models import (
    AccessToken,
    ConsoleUser,
    Customer,
    OutboxMessage,
    Passport,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.models.passports import PassportState
from admin_app.models.transfers import TransferState
from admin_app.roles import OWNER
from admin_app.scope import ALL_TENANTS, get_across_tenants
from admin_app.services import accounts, webhooks
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key
from admin_app.services.outbox import queue_mail
from admin_app.services.passports.actions import require
from admin_app.services.passports.claims import DRIVER_CLAIM, OWNER_CLAIM, claim_car
from admin_app.services.passports.lookup import lock_passport, owner_login
from admin_app.services.tokens import NOT_VALID, check_addressed_to, consume_token, peek_token

ACTIVATION = "activation"
ACTIVATION_TTL = timedelta(days=7)


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
    return session.execute(
        select(
            exists().where(
                func.lower(OutboxMessage.recipient) == email_key(passport.owner.email),
                OutboxMessage.kind == "activation",
                OutboxMessage.garage_id == passport.garage_id,
                OutboxMessage.created_at >= since,
            )
        ).execution_options(**{ALL_TENANTS: True})
    ).scalar_one()


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
