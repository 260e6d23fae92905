"""Issue 17, install and start: runtime pins apart from the tools, `.env` read by every
process (never by the tests), production refusing to start without its servers."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import config
from config import ConfigurationError, ProductionConfig
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="no database behaviour involved")

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = {"pytest", "playwright", "locust", "gevent", "ruff", "hypothesis", "schemathesis"}


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {
        m.group(1).lower().replace("_", "-"): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)
    }


def test_issue17_runtime_requirements_are_hashed_pins_without_the_tools():
    runtime = _pins("requirements.txt")
    assert not DEV_TOOLS & set(runtime), DEV_TOOLS & set(runtime)
    assert "tzdata" in runtime and "gunicorn" in runtime and "python-dotenv" in runtime
    # Every pin carries hashes: `pip install --require-hashes` refuses anything else.
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.txt").read_text())
    assert all("--hash=sha256:" in b for b in blocks if re.match(r"[A-Za-z0-9]", b))
    dev = _pins("requirements-dev.txt")
    assert DEV_TOOLS <= set(dev)
    assert all(runtime[name] == version for name, version in dev.items() if name in runtime)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: install$", makefile, re.M)  # `make run`: runtime only
    assert re.search(r"^test: install-dev ", makefile, re.M)
    assert makefile.count("--require-hashes") == 2


def test_issue17_what_the_console_imports_is_in_the_runtime_requirements():
    """Nothing web, worker, CLI or migrations import lives only in requirements-dev.txt."""
    modules = set()
    sources = [
        ROOT / "config.py",
        *ROOT.glob("admin_app/**/*.py"),
        *ROOT.glob("migrations/**/*.py"),
    ]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"admin_app", "config"}
    owners = packages_distributions()
    runtime = _pins("requirements.txt")
    missing = {
        module: owners.get(module)
        for module in third_party
        if not any(d.lower().replace("_", "-") in runtime for d in owners.get(module, []))
    }
    assert missing == {}


def test_issue17_tests_never_read_a_dotenv_file():
    assert os.environ["CONSOLE_ENV_FILE"] == ""  # tests/conftest.py, before config is imported
    assert config.ENV_FILE_LOADED is None


def test_issue17_dotenv_is_the_project_roots(monkeypatch):
    monkeypatch.delenv("CONSOLE_ENV_FILE")
    assert config._env_file() == ROOT / ".env"


def _process(code: str, env_file: Path, **environment: str) -> subprocess.CompletedProcess:
    # Only what a shell would have: settings other tests put in os.environ stay out.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    env.update(CONSOLE_ENV_FILE=str(env_file), **environment)
    arguments = code.split(" ") if code.startswith("-m") else ["-c", code]
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_issue17_dotenv_is_read_and_the_real_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DATABASE_URL=postgresql://console@db.internal/console\nSMTP_HOST=from-dotenv.example\n"
    )
    shown = _process(
        "import config; print(config.Config.SQLALCHEMY_DATABASE_URI, config.Config.SMTP_HOST)",
        env_file,
        SMTP_HOST="from-environment.example",
    )
    assert shown.stdout.split() == [
        "postgresql://console@db.internal/console",
        "from-environment.example",
    ], shown.stderr[-2000:]


def test_issue17_a_copied_env_example_keeps_the_development_defaults():
    """`cp .env.example .env` changes nothing: its empty lines mean the defaults."""
    shown = _process(
        "import config; c = config.Config; print(c.SQLALCHEMY_DATABASE_URI, c.PUBLIC_URL,"
        " c.RATELIMIT_STORAGE_URI, c.SMTP_PORT, c.MAIL_FROM.split()[0], c.OUTBOX_BACKOFF[0])",
        ROOT / ".env.example",
    )
    assert shown.stdout.split() == [
        f"sqlite:///{ROOT / 'instance' / 'console.db'}",
        "http://127.0.0.1:5000",
        "memory://",
        "25",
        "AutoPaspoort",
        "30",
    ], shown.stderr[-2000:]


def test_issue17_worker_and_cli_see_the_dotenv(tmp_path):
    """A copied .env saying production is not ignored: worker and `flask` refuse alike."""
    env_file = tmp_path / ".env"
    env_file.write_text("CONSOLE_ENV=production\nSECRET_KEY=" + "k" * 64 + "\n")
    for command in ["-m admin_app.jobs.worker", "-m flask --app admin_app:create_app routes"]:
        refused = _process(command, env_file)
        assert refused.returncode != 0, command
        assert "DATABASE_URL is not set" in refused.stderr, refused.stderr[-2000:]


GOOD = {
    "SECRET_KEY": "s" * 64,
    "SQLALCHEMY_DATABASE_URI": "postgresql://console@db.internal/console",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PUBLIC_URL": "https://console.example",
    "RATELIMIT_STORAGE_URI": "",
}


@pytest.mark.parametrize(
    "setting, value, reason",
    [
        ("SECRET_KEY", "", "SECRET_KEY is not set"),
        ("SQLALCHEMY_DATABASE_URI", "", "DATABASE_URL is not set"),
        ("REDIS_URL", "", "REDIS_URL is not set"),
        ("PUBLIC_URL", "", "PUBLIC_URL must be the console's https:// address"),
        ("PUBLIC_URL", "http://console.example", "PUBLIC_URL must be the console's https://"),
        ("RATELIMIT_STORAGE_URI", "memory://", "RATELIMIT_STORAGE_URI must name shared storage"),
    ],
)
def test_issue17_production_refuses_to_start_without(setting, value, reason):
    from admin_app import create_app

    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig, **{**GOOD, setting: value})
    lines = str(refused.value).splitlines()
    assert lines[0] == "Production cannot start:"
    assert len(lines) == 2 and lines[1].startswith("- " + reason), lines


def test_issue17_production_names_every_missing_setting_at_once():
    settings = {"SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "", "REDIS_URL": "", "PUBLIC_URL": ""}
    with pytest.raises(ConfigurationError) as refused:
        ProductionConfig.complete(settings)
    assert len(str(refused.value).splitlines()) == 1 + 4


def test_issue17_production_rate_limits_count_in_redis():
    settings = dict(GOOD)
    ProductionConfig.complete(settings)
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"
    settings = {**GOOD, "REDIS_URL": "unix:///run/redis/redis.sock"}
    ProductionConfig.complete(settings)
    assert settings["RATELIMIT_STORAGE_URI"] == "redis+unix:///run/redis/redis.sock"
    settings = {**GOOD, "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/1"}
    ProductionConfig.complete(settings)  # an own Redis database for the counters stays
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/1"


def test_issue17_pooled_connections_are_pinged(app):
    from admin_app.extensions import db

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    with app.app_context():
        assert db.engine.pool._pre_ping is True


def _run_deps(tmp_path: Path, uid: int) -> subprocess.CompletedProcess:
    """scripts/run-deps.sh on a machine without wkhtmltopdf: `id` and `apt-get` are stand-ins
    that answer the uid and note what they were asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "apt.log"}\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return subprocess.run(
        ["/bin/bash", str(ROOT / "scripts" / "run-deps.sh")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_issue17_make_run_installs_wkhtmltopdf_as_root(tmp_path):
    assert re.search(r"^run: install\n(\t.*\n)*\t@bash scripts/run-deps.sh\n", _makefile(), re.M)
    done = _run_deps(tmp_path, 0)
    assert done.returncode == 0
    assert "install -y -q --no-install-recommends wkhtmltopdf" in (tmp_path / "apt.log").read_text()


def test_issue17_make_run_without_root_prints_the_command_and_starts_anyway(tmp_path):
    done = _run_deps(tmp_path, 1000)
    assert done.returncode == 0  # make goes on to start the console
    assert "sudo apt-get install wkhtmltopdf" in done.stderr
    assert not (tmp_path / "apt.log").exists()


def _makefile() -> str:
    return (ROOT / "Makefile").read_text()
