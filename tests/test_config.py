"""Production refuses to start without a real SECRET_KEY; cookies are hardened."""

import pytest

from config import DEV_SECRET_KEY, ProductionConfig


@pytest.mark.parametrize("key", ["", DEV_SECRET_KEY, "short"])
def test_production_refuses_a_missing_or_default_secret_key(monkeypatch, key):
    from admin_app import create_app

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", key)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_cookies_are_secure_httponly_samesite():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_session_cookie_flags_on_login(app, world, browser):
    client = browser()
    client.fetch_csrf("/login/")
    response = client.post("/login/", {"username": "admin", "password": "demo"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
