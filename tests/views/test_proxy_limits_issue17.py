"""Issue 17, behind a proxy: the login limit keys on the client, not on nginx.

R-SEC (login limit, 10 per 20 s per client) with TRUSTED_PROXIES: two clients behind one
trusted proxy have two buckets; a client forging X-Forwarded-For without a trusted proxy
stays in its own address's bucket.
"""

import itertools

import pytest

from tests.conftest import DB_KIND, Browser

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="the limiter, not the database")

_clients = itertools.count(1)


@pytest.fixture()
def trusted_proxies(app):
    def trust(count: int):
        app.config["TRUSTED_PROXIES"] = count
        # The proxies below connect from 10.17.x.x (only their headers are believed).
        app.config["FORWARDED_ALLOW_IPS"] = "10.17.0.0/16"

    yield trust
    app.config["TRUSTED_PROXIES"] = 0
    app.config["FORWARDED_ALLOW_IPS"] = "127.0.0.1,::1"


def _failed_logins(client: Browser, times: int, forwarded_for: str) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for}
    return [
        client.post(
            "/login/", {"username": "niemand", "password": "fout"}, headers=headers
        ).status_code
        for _ in range(times)
    ]


def _client_behind(app, proxy: str) -> Browser:
    client = Browser(app)
    client.client.environ_base["REMOTE_ADDR"] = proxy
    client.fetch_csrf("/login/")
    return client


def test_issue17_two_clients_behind_a_trusted_proxy_have_two_buckets(app, trusted_proxies):
    trusted_proxies(1)
    proxy = f"10.17.1.{next(_clients)}"
    first, second = f"192.0.2.{next(_clients)}", f"198.51.100.{next(_clients)}"
    assert _failed_logins(_client_behind(app, proxy), 11, first)[-1] == 429
    # The same proxy, another client: its own ten tries.
    assert 429 not in _failed_logins(_client_behind(app, proxy), 10, second)


def test_issue17_forged_forwarded_for_without_a_trusted_proxy_is_ignored(app, trusted_proxies):
    trusted_proxies(0)
    address = f"10.17.2.{next(_clients)}"
    client = _client_behind(app, address)
    # A new made-up address each time: were it believed, no bucket would ever fill.
    codes = [_failed_logins(client, 1, f"203.0.113.{n}")[0] for n in range(11)]
    assert codes[-1] == 429 and 429 not in codes[:10]


# The limits, one test per row of DESIGN-NOTES "Limits" (the API key row:
# tests/api/test_api_keys_issue16.py::test_issue16_a_key_is_limited_per_minute).
PER_CLIENT_POSTS = [
    ("/login/", "form"),
    ("/api/v1/security/login", "json"),
    ("/forgot-password", "form"),
    ("/activate/verzonnen-token", "form"),
    ("/transfer/accept/verzonnen-token", "form"),
    ("/access/verzonnen-token", "form"),
]


def _post(client: Browser, path: str, kind: str):
    if kind == "json":
        return client.client.post(
            path, json={"username": "niemand", "password": "fout", "provider": "db"}
        )
    return client.post(path, {"username": "niemand", "password": "fout", "identifier": "x"})


@pytest.mark.parametrize(("path", "kind"), PER_CLIENT_POSTS)
def test_issue17_public_posts_are_limited_10_per_20_s_per_client(app, path, kind):
    """R-SEC: HTML and API login, /forgot-password, activation, accept and driver access:
    10 POSTs per 20 s per client; another client keeps its own ten."""
    assert app.config["AUTH_RATE_LIMIT"] == "10 per 20 second"
    client = Browser(app)
    client.fetch_csrf("/login/")
    codes = [_post(client, path, kind).status_code for _ in range(11)]
    assert 429 not in codes[:10] and codes[10] == 429, codes
    other = Browser(app)
    other.fetch_csrf("/login/")
    assert _post(other, path, kind).status_code != 429


def _one_click(app, token: str, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post(f"/opt-out/{token}", data={"List-Unsubscribe": "One-Click"})


def test_issue17_one_click_opt_out_is_limited_per_token_not_per_client(app):
    """R-CP-2: mail providers post one-click opt-outs from a few addresses, so one address
    is not limited; one token is, to 60 per minute."""
    assert app.config["OPT_OUT_RATE_LIMIT"] == "60 per minute"
    provider = f"10.17.4.{next(_clients)}"
    codes = [_one_click(app, "token-een", provider).status_code for _ in range(61)]
    assert 429 not in codes[:60] and codes[60] == 429, codes
    # The same provider's address, another customer's link: not refused.
    assert _one_click(app, "token-twee", provider).status_code != 429
    # Another address, the first token: the token's minute is used up wherever it comes from.
    assert _one_click(app, "token-een", f"10.17.5.{next(_clients)}").status_code == 429


def test_issue17_forgot_password_sends_one_reset_mail_per_account_per_15_minutes(app, world):
    """R-SEC-3: two clients ask for the same account; one mail (RESET_MAIL_INTERVAL_MINUTES)."""
    from sqlalchemy import func, select

    from admin_app.jobs.accounts import mail_password_reset
    from admin_app.models import OutboxMessage
    from tests.mails import run_queued

    assert app.config["RESET_MAIL_INTERVAL_MINUTES"] == 15
    run_queued(app, mail_password_reset, perform=False)  # left by earlier tests

    def reset_mails() -> int:
        return world.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "password_reset",
                OutboxMessage.recipient == "support@autopaspoort.example",
            )
        )

    before = reset_mails()
    for _ in range(2):
        client = Browser(app)
        client.fetch_csrf("/forgot-password")
        assert client.post("/forgot-password", {"identifier": "support"}).status_code == 302
    assert run_queued(app, mail_password_reset) == 2
    assert reset_mails() == before + 1


def test_issue17_security_headers_from_talisman(app):
    """Issue 17: scripts only with this response's nonce, no framing, HSTS in production only."""
    import re

    from config import ProductionConfig

    client = Browser(app)
    response = client.get("/login/")
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "frame-ancestors 'none'" in policy
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
    assert "Strict-Transport-Security" not in response.headers  # not in development/tests
    assert ProductionConfig.SECURITY_HSTS is True


def test_issue17_no_inline_handlers_in_the_console_templates():
    """The policy blocks onclick=/onsubmit= and javascript: links: the console uses none."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "admin_app" / "templates"
    handler = re.compile(r"""\son[a-z]+\s*=|href\s*=\s*["']javascript:""", re.IGNORECASE)
    found = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in templates.rglob("*.html")
        for match in handler.finditer(path.read_text())
    ]
    assert found == []


def test_issue17_attack_one_ipv6_network_is_one_client(app, trusted_proxies):
    """R-SEC login limit: an IPv6 client holds a whole /64 (2^64 addresses); counted per
    address, a new one per try never filled a bucket. Counted per /64 it is one client."""
    trusted_proxies(1)
    client = _client_behind(app, f"10.17.6.{next(_clients)}")
    network = f"2001:db8:17:{next(_clients):x}"
    codes = [_failed_logins(client, 1, f"{network}::{n:x}")[0] for n in range(1, 12)]
    assert codes[-1] == 429 and 429 not in codes[:10], codes
    # The next network is someone else.
    other = _client_behind(app, f"10.17.6.{next(_clients)}")
    assert _failed_logins(other, 1, f"2001:db8:18:{next(_clients):x}::1") != [429]


@pytest.mark.parametrize(("path", "kind"), [p for p in PER_CLIENT_POSTS if p[1] == "form"])
def test_issue17_attack_a_limited_page_says_so_in_the_users_language(app, path, kind):
    """A garage employee or customer past a page's limit got werkzeug's bare English
    "429 Too Many Requests": now the console's words, in Dutch (English with ?_l_=en)."""
    client = Browser(app)
    client.fetch_csrf("/login/")
    for _ in range(10):
        _post(client, path, kind)
    refused = _post(client, path, kind)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Te veel pogingen" in page and "Too Many Requests" not in page
    english = client.post(path + "?_l_=en", {"username": "niemand", "identifier": "x"})
    assert english.status_code == 429 and "Too many attempts" in english.get_data(as_text=True)


def test_issue17_attack_a_limited_one_click_opt_out_says_so_in_dutch(app):
    for _ in range(60):
        _one_click(app, "token-drie", f"10.17.7.{next(_clients)}")
    refused = _one_click(app, "token-drie", f"10.17.7.{next(_clients)}")
    assert refused.status_code == 429 and "Te veel pogingen" in refused.get_data(as_text=True)
