"""No committed SECRET_KEY: development reads the key `make run` made, every other
configuration but the tests' refuses to start without one; cookies are hardened."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import (
    PUBLISHED_KEYS,
    Config,
    ConfigurationError,
    DevelopmentConfig,
    ProductionConfig,
    create_secret_key_file,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("key", ["", *sorted(PUBLISHED_KEYS), "short"])
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


def test_issue13_secret_key_file_created_once_0600(tmp_path):
    path = tmp_path / "instance" / "secret_key"
    assert create_secret_key_file(path) is True
    key = path.read_text().strip()
    assert len(bytes.fromhex(key)) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_secret_key_file(path) is False  # the second run keeps the first key
    assert path.read_text().strip() == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_issue13_make_run_creates_the_key_before_any_process(tmp_path, monkeypatch):
    from admin_app import devserver

    path = tmp_path / "secret_key"
    seen = []

    def first_process(*args, **kwargs):
        seen.append(path.exists())
        raise SystemExit(0)

    monkeypatch.setattr(devserver, "SECRET_KEY_FILE", path)
    monkeypatch.setattr(devserver, "INSTANCE_DIR", tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # no embedded Redis
    monkeypatch.setattr(devserver.subprocess, "run", first_process)
    monkeypatch.setattr(devserver.subprocess, "Popen", first_process)
    monkeypatch.setattr(sys, "argv", ["devserver", "--port", "5999"])
    with pytest.raises(SystemExit):
        devserver.main()
    assert seen == [True]


@pytest.mark.parametrize("config", [Config, DevelopmentConfig, ProductionConfig])
def test_issue13_non_test_config_without_secret_key_refuses(config, tmp_path, monkeypatch):
    from admin_app import create_app

    monkeypatch.setattr(config, "SECRET_KEY", "")
    monkeypatch.setattr(DevelopmentConfig, "secret_key_file", tmp_path / "missing")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("PUBLIC_URL", "https://console.example")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(config)


def test_issue13_development_reads_the_key_file(tmp_path, monkeypatch):
    path = tmp_path / "secret_key"
    create_secret_key_file(path)
    monkeypatch.setattr(DevelopmentConfig, "secret_key_file", path)
    settings = {"SECRET_KEY": ""}
    DevelopmentConfig.complete(settings)
    assert settings["SECRET_KEY"] == path.read_text().strip()


# The web server, the worker and `flask …` commands all build the app with create_app()
# under CONSOLE_ENV=development; the file's place is patched, the real instance/ is left.
_DEVELOPMENT_PROCESS = """
import sys
from pathlib import Path
import config
config.DevelopmentConfig.secret_key_file = Path(sys.argv[1])
if sys.argv[2] == "app":
    from admin_app import create_app
    print(create_app().config["SECRET_KEY"])
else:
    from admin_app.jobs.worker import main
    main()
"""


def _development_process(key_file: Path, what: str, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(
        CONSOLE_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    return subprocess.run(
        [sys.executable, "-c", _DEVELOPMENT_PROCESS, str(key_file), what],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_issue13_development_process_signs_with_the_key_file(tmp_path):
    path = tmp_path / "secret_key"
    create_secret_key_file(path)
    result = _development_process(path, "app", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == path.read_text().strip()


def test_issue13_worker_without_key_file_refuses_clearly(tmp_path):
    result = _development_process(tmp_path / "missing", "worker", tmp_path)
    assert result.returncode == 1
    assert "make run" in result.stderr and "Traceback" not in result.stderr
