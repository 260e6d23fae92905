"""Logins: colleagues of a garage, password resets (R-SEC-3)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from admin_app import queueing
from admin_app.domain.errors import Conflict, InvalidInput, NotFound
from admin_app.models import ConsoleUser, OutboxMessage
from admin_app.models.base import utcnow
from admin_app.roles import GARAGE
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.emails import normalize_email
from admin_app.services.outbox import queue_mail
from admin_app.services.tokens import NOT_VALID, check_addressed_to, consume_token, peek_token

PASSWORD_RESET = "password_reset"
# At most one reset mail per login in this time, however often the form is sent.
RESET_MAIL_INTERVAL = timedelta(minutes=15)

LOGIN_TAKEN = _l("A login with this user name or e-mail already exists.")
MIN_PASSWORD_LENGTH = 8


def find_role(session: Session, name: str):
    from flask_appbuilder.security.sqla.models import Role

    role = session.scalar(select(Role).where(Role.name == name))
    if role is None:
        raise NotFound(_l("Role %(name)s does not exist; run `flask sync-roles`.", name=name))
    return role


def check_new_password(password: str, confirm: str | None = None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _l("Choose a password of at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if confirm is not None and password != confirm:
        raise InvalidInput(_l("The passwords do not match."), field="conf_password")


def password_rule_for_fab(password: str) -> None:
    """check_new_password for FAB's own password forms, in the exception they expect."""
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    try:
        check_new_password(password)
    except InvalidInput as refusal:
        raise PasswordComplexityValidationError(str(refusal.message)) from None


def create_login(
    session: Session,
    *,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role_name: str,
    password: str | None = None,
    garage_id: int | None = None,
    fleet_account_id: int | None = None,
) -> ConsoleUser:
    """A new login. Without a password it can only be entered through a mailed link.

    Raises Conflict when the user name or e-mail is taken — also when a twin request
    (a double-clicked submit) made the login between this check and the insert."""
    email = normalize_email(email)
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_l("Fill in a user name."), field="username")
    if "@" in username and username.lower() != email.lower():
        # An Owner's user name is his e-mail address: a login named after someone else's
        # address would keep him from ever activating his car (issue 13).
        raise InvalidInput(
            _l("A user name with @ must be the login's own e-mail address."), field="username"
        )
    clash = session.scalar(
        select(ConsoleUser.id).where(
            or_(
                func.lower(ConsoleUser.username) == username.lower(),
                func.lower(ConsoleUser.email) == email.lower(),
            )
        )
    )
    if clash:
        raise Conflict(LOGIN_TAKEN, field="email")
    user = ConsoleUser(
        username=username,
        email=email,
        first_name=first_name.strip() or username,
        last_name=last_name.strip() or "-",
        active=True,
        garage_id=garage_id,
        fleet_account_id=fleet_account_id,
        password=generate_password_hash(password) if password else None,
    )
    role = find_role(session, role_name)
    try:
        with session.begin_nested():
            session.add(user)
            # Only now: begin_nested flushes first, and a role holding an unadded user warns.
            user.roles = [role]
            session.flush()
    except IntegrityError:
        # Two submits passed the check above at once; the unique columns let one in. The
        # savepoint keeps the caller's transaction usable (PostgreSQL aborts it otherwise).
        raise Conflict(LOGIN_TAKEN, field="email") from None
    return user


def add_colleague(
    session: Session,
    *,
    garage_id: int,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
) -> ConsoleUser:
    """A Garage login for the same garage; the colleague sets a password by mail."""
    user = create_login(
        session,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role_name=GARAGE,
        garage_id=garage_id,
    )
    mail_password_link(session, user, welcome=True)
    return user


def set_colleague_active(
    session: Session, *, garage_id: int, user_id: int, active: bool, actor_id: int
) -> ConsoleUser:
    from admin_app.services.api_keys import is_service_user

    user = scoped_get(session, ConsoleUser, user_id)
    if user is None or user.garage_id != garage_id or {r.name for r in user.roles} != {GARAGE}:
        raise NotFound(_l("Not found."))
    if is_service_user(session, user.id):  # an API key's login: revoke the key instead
        raise NotFound(_l("Not found."))
    if user.id == actor_id and not active:
        raise Conflict(_l("You cannot disable your own login."))
    user.active = active
    session.flush()
    return user


def queue_password_reset(identifier: str) -> None:
    """Queue the worker's ``mail_password_reset`` for what was typed on the form (by name:
    services import no jobs). The job's description is rq's default, the call with its
    argument, which rq's worker logs and rq-dashboard shows: a name, an e-mail or a
    password typed in the wrong field."""
    queueing.get_queue().enqueue(
        "admin_app.jobs.accounts.mail_password_reset",
        identifier,
        description="mail_password_reset(…)",
    )


def request_password_reset(
    session: Session, identifier: str, *, now=None, interval: timedelta = RESET_MAIL_INTERVAL
) -> bool:
    """Mail a reset link to the active user with this user name or e-mail, if there is one
    and he was sent none in the last ``interval`` (the setting RESET_MAIL_INTERVAL_MINUTES,
    15). Returns whether a mail was queued.

    Run by the worker (jobs/accounts): the form does the same work for every name, so
    neither its answer nor its timing tells who has a login.
    """
    key = (identifier or "").strip().lower()
    if not key:
        return False
    from admin_app.services.api_keys import service_user_ids

    user = session.scalar(
        select(ConsoleUser)
        .where(
            or_(func.lower(ConsoleUser.username) == key, func.lower(ConsoleUser.email) == key),
            ConsoleUser.active.is_(True),
            # An API key's login has no password to reset and nobody reads its mail.
            ConsoleUser.id.not_in(service_user_ids()),
        )
        # Two workers asking at once for one account: the second waits here until the
        # first has committed its mail, then sees it (PostgreSQL; SQLite has one writer).
        .with_for_update()
    )
    if user is None:
        return False
    since = (now or utcnow()) - interval
    recent = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.kind == "password_reset",
            func.lower(OutboxMessage.recipient) == user.email.lower(),
            OutboxMessage.created_at > since,
        )
        # A rule about the login, whoever runs it: his mails filed under any garage count.
        .execution_options(**{ALL_TENANTS: True})
    )
    if recent is not None:
        return False
    mail_password_link(session, user, welcome=False)
    return True


def reset_link_ttl(*, welcome: bool) -> timedelta:
    """72 hours to choose a first password, one hour for a reset."""
    return timedelta(hours=72 if welcome else 1)


def mail_password_link(
    session: Session,
    user: ConsoleUser,
    *,
    welcome: bool,
    garage_id: int | None = None,
) -> None:
    """Mail a set-password link (single use; reset_link_ttl).

    ``garage_id`` files the mail under the garage it concerns (a fleet manager's login
    belongs to no garage, his welcome mail does)."""
    with force_locale("nl"):  # mails are Dutch, whatever the screen that caused them
        if welcome and user.fleet_account is not None:
            subject = str(
                _l("Your fleet account at %(garage)s", garage=user.fleet_account.garage.name)
            )
        elif welcome:
            subject = str(_l("Your login for the garage console"))
        else:
            subject = str(_l("Reset your password"))
    queue_mail(
        session,
        recipient=user.email,
        kind="password_reset",
        subject=subject,
        params={"user_id": user.id, "welcome": welcome},
        garage_id=garage_id or user.garage_id,
    )


def _reset_token(session: Session, raw: str, *, consume: bool):
    token = (consume_token if consume else peek_token)(session, raw, purpose=PASSWORD_RESET)
    user = session.get(ConsoleUser, token.user_id)
    if user is None or not user.active:
        raise InvalidInput(NOT_VALID)
    check_addressed_to(token, user.email)
    return user


def user_for_reset_link(session: Session, raw: str) -> ConsoleUser:
    return _reset_token(session, raw, consume=False)


def password_matches(user: ConsoleUser, password: str | None) -> bool:
    return bool(user.password and password and check_password_hash(user.password, password))


def set_password(user: ConsoleUser, password: str) -> None:
    """A new password; every session and JWT of the login ends (services/sessions)."""
    user.password = generate_password_hash(password)
    user.fail_login_count = 0


def reset_password(session: Session, raw: str, password: str, confirm: str) -> ConsoleUser:
    check_new_password(password, confirm)
    user = _reset_token(session, raw, consume=True)
    set_password(user, password)
    session.flush()
    return user
