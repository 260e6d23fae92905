"""The garage's own settings."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from admin_app.domain.errors import Forbidden, InvalidInput, NotFound
from admin_app.models import ConsoleUser, Garage
from admin_app.roles import ADMIN, GARAGE
from admin_app.scope import ALL_TENANTS, scoped_get
from admin_app.services.audit import Actor
from admin_app.services.emails import email_key, normalize_email
from admin_app.services.outbox import queue_mail

LOGO_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024
GARAGE_EMAIL_CHANGED = "garage_email_changed"


def store_logo(garage: Garage, upload) -> None:
    """Keep a PNG or JPEG logo (checked by its bytes, not its name) on the garage."""
    data = upload.read(MAX_LOGO_BYTES + 1)
    if not data:
        return
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput(_l("The logo may be at most 512 KB."), field="logo_upload")
    mimetype = next((kind for magic, kind in LOGO_TYPES.items() if data.startswith(magic)), None)
    if mimetype is None:
        raise InvalidInput(_l("The logo must be a PNG or JPEG image."), field="logo_upload")
    garage.logo = data
    garage.logo_mimetype = mimetype


def get_garage(session: Session, garage_id) -> Garage:
    """The garage, if the caller's scope holds it; NotFound otherwise (R-SEC-1)."""
    garage = scoped_get(session, Garage, garage_id)
    if garage is None:
        raise NotFound(_l("Not found."))
    return garage


def free_garage_email(session: Session, raw: str | None, *, garage: Garage | None = None) -> str:
    """The address, normalized (R-PP-5), if it may become ``garage``'s e-mail.

    Raises InvalidInput when it is no valid address, or when another garage or a login
    other than this garage's own uses it: a passport made for that address would be
    another's stock car (R-PP-3), and one address is one login.
    """
    email = normalize_email(raw, field="email")
    key = email_key(email)
    # Platform-wide checks that name no row: the answer says only "in use".
    other_garage = session.scalar(
        select(Garage.id)
        .where(func.lower(Garage.email) == key)
        .execution_options(**{ALL_TENANTS: True})
    )
    if other_garage is not None and (garage is None or other_garage != garage.id):
        raise InvalidInput(_l("Another garage uses this e-mail address already."), field="email")
    # A login's user name too: the garage's own login takes the address as its name, and
    # a name keeps the address it was made with when the login's e-mail changes later.
    logins = session.scalars(
        select(ConsoleUser)
        .where(or_(func.lower(ConsoleUser.email) == key, func.lower(ConsoleUser.username) == key))
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    if any(login not in garage_logins(session, garage) for login in logins):
        raise InvalidInput(
            _l("A login uses this e-mail address already; choose another address."),
            field="email",
        )
    return email


def why_not_change_email(session: Session, garage: Garage, actor: Actor):
    """Why ``actor`` may not change the garage e-mail (a lazy message), or None.

    Its staff or Admin. While the garage has its own login (garage_logins), whose address
    moves along, only that login itself or Admin: a colleague would move another person's
    login to an address of his and could then reset its password."""
    if not (actor.has(GARAGE) and actor.garage_id == garage.id) and not actor.has(ADMIN):
        return _l("Only the garage's own staff change its e-mail address.")
    own = garage_logins(session, garage)
    if own and not actor.has(ADMIN) and actor.id not in {login.id for login in own}:
        return _l(
            "The garage e-mail is the login of %(name)s: only that login, or the platform's "
            "administrator, changes it.",
            name=own[0].get_full_name(),
        )
    return None


def garage_logins(session: Session, garage: Garage | None) -> list[ConsoleUser]:
    """The garage's own login: its staff login whose e-mail is the garage e-mail (R-PP-3
    calls the garage e-mail "the garage's own login e-mail"). It follows the garage
    e-mail; every other colleague keeps his own address."""
    if garage is None or garage.id is None:
        return []
    return list(
        session.scalars(
            select(ConsoleUser)
            .where(
                ConsoleUser.garage_id == garage.id,
                func.lower(ConsoleUser.email) == email_key(garage.email),
            )
            .execution_options(**{ALL_TENANTS: True})
        )
    )


def change_garage_email(session: Session, garage_id, new_email: str, *, actor: Actor) -> Garage:
    """R-PP-3: the garage e-mail becomes ``new_email``; passports created with it from now
    on are stock cars, those created before keep their flag (it is stored).

    The garage's own login (garage_logins) moves along, user name included when that was
    the address; the change is audited (the flush listener) and mailed to the old and the
    new address, so a change nobody at the garage made does not go unnoticed. Its staff
    or Admin only (Forbidden); refuses what free_garage_email refuses (InvalidInput).
    """
    garage = get_garage(session, garage_id)
    refusal = why_not_change_email(session, garage, actor)
    if refusal is not None:
        raise Forbidden(refusal)
    email = free_garage_email(session, new_email, garage=garage)
    old = garage.email
    if email_key(email) == email_key(old):
        garage.email = email  # the same address, spelled anew: nothing to announce
        return garage
    for login in garage_logins(session, garage):
        if email_key(login.username) == email_key(old):
            login.username = email_key(email)
        login.email = email
    garage.email = email
    session.flush()
    person = session.get(ConsoleUser, actor.id) if actor.id else None
    by = person.get_full_name() if person is not None else actor.name
    with force_locale("nl"):  # mails to a garage are Dutch (services/mails)
        subject = str(_l("The e-mail address of %(garage)s was changed", garage=garage.name))
    for recipient in (old, email):
        queue_mail(
            session,
            recipient=recipient,
            kind=GARAGE_EMAIL_CHANGED,
            subject=subject,
            params={"garage_id": garage.id, "old": old, "new": email, "by": by},
            garage_id=garage.id,
        )
    return garage
