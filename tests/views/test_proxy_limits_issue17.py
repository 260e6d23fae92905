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

    yield trust
    app.config["TRUSTED_PROXIES"] = 0


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
