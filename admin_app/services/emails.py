"""E-mail addresses (R-PP-5): syntax-checked without network look-ups, normalized."""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput


def normalize_email(raw: str | None, *, field: str = "email") -> str:
    """Trimmed, domain lower-cased; raises InvalidInput with the reason in Dutch."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_l("Fill in an e-mail address."), field=field)
    normalized = valid_email(text)
    if normalized is None:
        raise InvalidInput(
            _l("'%(email)s' is not a valid e-mail address.", email=text), field=field
        )
    return normalized


# Plain ASCII addresses of the shape nearly every customer has: a dot-atom local part
# and a host name of letters, digits and inner hyphens under an alphabetic top-level
# domain. Everything such an address can be is accepted by email-validator too (a test
# compares both); all other addresses — quoted, internationalized, IP literals, special-
# use domains, lengths near the limits — go to email-validator itself. This keeps a
# 100,000-row list's check at a fraction of a second instead of ~3 s (BENCHMARKS.md).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(
    rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})"
)
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)


def valid_email(text: str) -> str | None:
    """The address with its domain lower-cased, or None when it is not valid.

    email-validator lower-cases some local parts (INFO@ → info@); we keep the customer's
    spelling and compare case-insensitively instead (email_key).
    """
    plain = _PLAIN_ADDRESS.fullmatch(text)
    if plain and len(text) <= 200 and len(plain["local"]) <= 64:
        domain = plain["domain"].lower()
        if "--" not in domain and not _special_use(domain):
            return f"{plain['local']}@{domain}"
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return f"{text.rpartition('@')[0]}@{result.domain.lower()}"


def _special_use(domain: str) -> bool:
    return any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE)


def email_key(email: str) -> str:
    """The form in which two addresses of the same customer compare equal."""
    return email.strip().lower()
