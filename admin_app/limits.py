"""Every request limit of the console, applied in one place (DESIGN-NOTES "Limits").

The numbers are settings in config.py ("Limits" block); this module says which routes
each one guards and what it counts by. Limits are callables read at each request, so
an app follows its configuration (tests lower them).
"""

from __future__ import annotations

import ipaddress

from flask import current_app, request


def _setting(name: str):
    return lambda: current_app.config[name]


def client_key() -> str:
    """The client a per-client limit counts: its address (behind TRUSTED_PROXIES, the one
    the proxy saw), an IPv6 address by its /64. Whoever has one IPv6 address has its
    whole /64, 2^64 of them: counted one by one, a new address per try is never limited."""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def _opt_out_token() -> str:
    # Mail providers post one-click opt-outs from a few shared addresses: counting per
    # client would refuse real customers, so the link's token is what is counted.
    return (request.view_args or {}).get("token", "")


def _calendar_token() -> str:
    # Per calendar address (issue 18): calendar services poll from a few shared
    # addresses, like mail providers, so the address's secret is what is counted.
    return (request.view_args or {}).get("token", "")


def apply_limits(appbuilder, *, per_client_forms, opt_out_view, calendar_view=None) -> None:
    """Attach the limits to FAB's JWT login, the public forms and the opt-out link.

    FAB limits its HTML login itself (AUTH_RATE_LIMITED, AUTH_RATE_LIMIT); API keys are
    counted per key where the key is checked (api/keys.py, API_KEY_RATE_LIMIT)."""
    sm = appbuilder.sm
    if not sm.is_auth_limited:
        return
    from flask_appbuilder.security.api import SecurityApi

    per_client = _setting("AUTH_RATE_LIMIT")
    for view in appbuilder.baseviews:
        # FAB rate-limits the HTML login only; the JWT login is just as guessable.
        if isinstance(view, (SecurityApi, *per_client_forms)):
            sm.limiter.limit(per_client, methods=["POST"])(view.blueprint)
        elif isinstance(view, opt_out_view):
            sm.limiter.limit(
                _setting("OPT_OUT_RATE_LIMIT"), key_func=_opt_out_token, methods=["POST"]
            )(view.blueprint)
        elif calendar_view is not None and isinstance(view, calendar_view):
            # HEAD too: Flask answers it with the GET view (the whole feed is made).
            sm.limiter.limit(
                _setting("CALENDAR_FEED_RATE_LIMIT"),
                key_func=_calendar_token,
                methods=["GET", "HEAD"],
            )(view.blueprint)
