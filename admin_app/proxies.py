"""Behind a reverse proxy (issue 17): the client's address, scheme and host come from the
X-Forwarded-* headers only when the operator says how many proxies stand in front.

Without this every user behind nginx has nginx's address, and the login limit (keyed on
the client address) puts them all in one bucket. Trusting the headers without a proxy
would let any client pick its own address and escape the limit.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_app.metrics import allowed


class TrustedProxies:
    """werkzeug's ProxyFix with x_for, x_proto, x_host and x_port = TRUSTED_PROXIES, for
    connections from FORWARDED_ALLOW_IPS only.

    The count is read at each request (as the limits are), so one app follows its
    configuration; 0, the default, trusts no header."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        count = int(self.app.config["TRUSTED_PROXIES"])
        if count <= 0 or not self.from_a_proxy(environ.get("REMOTE_ADDR")):
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(count)
        if fix is None:
            fix = self._fixes[count] = ProxyFix(
                self.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
            )
        return fix(environ, start_response)

    def from_a_proxy(self, remote_addr: str | None) -> bool:
        """Whether the connection comes from a proxy (FORWARDED_ALLOW_IPS, gunicorn's own
        setting for X-Forwarded-Proto): anyone else reaching the web process directly
        would pick its own address, past the login limit and into /metrics."""
        allow = self.app.config["FORWARDED_ALLOW_IPS"]
        return allow.strip() == "*" or allowed(remote_addr, allow)


def trust_proxies(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)
