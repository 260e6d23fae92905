"""Vetting an endpoint's address (SSRF), at registration and again at every delivery:
every address its name resolves to must be globally routable (no loopback, private,
link-local, IPv4-mapped loopback …), or a garage could make the worker call the
platform's own network. The worker then connects to the address it vetted, not to a
second lookup."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput

ALLOWED_PORTS = {443, 8443}
MAX_URL = 2000


class WebhookRefused(InvalidInput):
    """The URL may not receive webhooks (scheme, port, or an address not public)."""


@dataclass(frozen=True)
class VettedUrl:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # every address the host resolved to, all allowed


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


# IPv6 ranges that carry an IPv4 address or are deprecated, which Python's is_global
# (3.11) still calls global. NAT64's well-known prefix is judged by the IPv4 address
# inside it (a DNS64 network reaches a public IPv4-only receiver through it); the rest is
# refused: a NAT64 gateway or an old router would take them to a private address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NOT_GLOBAL_V6 = tuple(
    ipaddress.ip_network(n)
    for n in ("64:ff9b:1::/48", "::/96", "fec0::/10")  # local NAT64, IPv4-compatible, site
)


def address_allowed(address: str, *, allow_private: bool = False) -> bool:
    """Whether the worker may connect to ``address``: globally routable, with an IPv6
    address that carries an IPv4 address (mapped, 6to4, NAT64) judged by that IPv4
    address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif any(ip in network for network in NOT_GLOBAL_V6) and not allow_private:
            return False
    if allow_private:
        return True
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # str(): an IP address is text; getaddrinfo's type also allows other families' numbers.
    return sorted({str(info[4][0]) for info in infos})


def vet_url(url: str, *, allow_private: bool | None = None) -> VettedUrl:
    """Check a webhook URL and resolve it; raises WebhookRefused saying why not."""
    allow_private = _allow_private() if allow_private is None else allow_private
    parts, host, port = _read_url(url, allow_private=allow_private)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):  # no such name, or not a name at all
        raise WebhookRefused(
            _l("The server %(host)s cannot be found.", host=host), field="url"
        ) from None
    _refuse_addresses_not_public(host, addresses, allow_private=allow_private)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return VettedUrl(parts.scheme, host, port, target, tuple(addresses))


def _read_url(url: str, *, allow_private: bool) -> tuple[SplitResult, str, int]:
    """The URL's parts, server name and port, if it is HTTPS to a named server on an allowed port
    without a user name or password (HTTP and any port too when private is allowed)."""
    url = (url or "").strip()
    if not url:
        raise WebhookRefused(_l("Fill in the URL of your endpoint."), field="url")
    if len(url) > MAX_URL:
        raise WebhookRefused(_l("The URL is too long."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused(_l("This is not a valid URL."), field="url") from None
    schemes = ("https", "http") if allow_private else ("https",)
    host = parts.hostname
    if parts.scheme not in schemes or not host:
        raise WebhookRefused(_l("The URL must start with https:// and name a server."), field="url")
    if parts.username or parts.password:
        raise WebhookRefused(_l("Leave user names and passwords out of the URL."), field="url")
    port = port or (443 if parts.scheme == "https" else 80)
    if port not in ALLOWED_PORTS and not allow_private:
        raise WebhookRefused(_l("Use port 443 or 8443."), field="url")
    return parts, host, port


def _refuse_addresses_not_public(host: str, addresses: list[str], *, allow_private: bool):
    """Every address the host resolved to must be allowed, and there must be one."""
    refused = [a for a in addresses if not address_allowed(a, allow_private=allow_private)]
    if refused == [host]:  # an address typed as the host: say it once
        raise WebhookRefused(
            _l(
                "%(address)s is not an address on the public internet: webhooks go to "
                "public servers only.",
                address=host,
            ),
            field="url",
        )
    if refused or not addresses:
        raise WebhookRefused(
            _l(
                "%(host)s points to an address that is not on the public internet "
                "(%(address)s): webhooks go to public servers only.",
                host=host,
                address=", ".join(refused) or "-",
            ),
            field="url",
        )
