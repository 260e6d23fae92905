"""E-mail addresses (R-PP-5): syntax-checked without network look-ups, normalized."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from admin_app.services.errors import InvalidInput


def normalize_email(raw: str | None, *, field: str = "email") -> str:
    """Trimmed, domain lower-cased; raises InvalidInput with the reason in Dutch."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_l("Fill in an e-mail address."), field=field)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(
            _l("'%(email)s' is not a valid e-mail address.", email=text), field=field
        ) from None
    # email-validator lower-cases some local parts (INFO@ → info@); we keep the
    # customer's spelling and compare case-insensitively instead (email_key).
    local = text.rpartition("@")[0]
    return f"{local}@{result.domain.lower()}"


def email_key(email: str) -> str:
    """The form in which two addresses of the same customer compare equal."""
    return email.strip().lower()
