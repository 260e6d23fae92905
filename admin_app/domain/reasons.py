"""Why a row of a customer list is refused, as a code with its parameters (R-BJ-2, R-X-2).

A refused row stores codes, not sentences: the preview, the batch job's page, the API and
the refused-rows download put them in the reader's language when they are read. Rows
refused before codes existed keep their stored (Dutch) text.

A leaf module: models import it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TEXTS = {
    "cell_too_long": _l("'%(column)s' is longer than %(length)s characters."),
    "plate_missing": _l("Plate missing."),
    "plate_invalid": _l("'%(plate)s' is not a Dutch licence plate."),
    "email_missing": _l("E-mail missing."),
    "email_invalid": _l("'%(email)s' is not a valid e-mail address."),
    "last_name_missing": _l("Last name missing."),
    "apk_expiry_invalid": _l("APK expiry '%(value)s' is not a date (dd-mm-yyyy)."),
    "plate_repeated": _l("Plate repeats row %(row)s of this file."),
    "other_garage": _l("The plate has an active passport at another garage."),
    "email_locked": _l(
        "The passport is activated or transferred: its e-mail can only be changed by the "
        "support desk."
    ),
}

# A reason: its code and its parameters, e.g. ("plate_invalid", {"plate": "AB-12"}).
Reason = tuple[str, dict]


def codes(reasons: list[Reason]) -> str:
    """The codes of ``reasons``, as stored and as the API's ``reason_code`` gives them:
    separated by spaces, each once, in the order the row was checked."""
    return " ".join(dict.fromkeys(code for code, _ in reasons))


def text(reason_code: str | None, params: list | None) -> str | None:
    """The reasons in the current language, one sentence each; None for no reason.

    ``params`` is the stored list of [code, parameters] pairs, or None where the codes
    need none (a refusal found by the plan: another garage, a locked e-mail)."""
    if not reason_code:
        return None
    pairs = params or [(code, {}) for code in reason_code.split()]
    return " ".join(_sentence(code, values or {}) for code, values in pairs)


def _sentence(code: str, values: dict) -> str:
    message = TEXTS.get(code)
    if message is None:
        return code  # a code of a newer release: better its name than nothing
    return str(message) % values if values else str(message)
