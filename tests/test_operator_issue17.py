"""Issue 17 as an operator finds it: following README and deploy/ literally on Debian 12 with
systemd and nginx, and feeding production the values people mistype (R-IN-7).

Each test here failed against the install and deploy kit as first merged."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from config import ConfigurationError, ProductionConfig
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="settings and files; no database")

ROOT = Path(__file__).resolve().parents[1]
GOOD = {
    "SECRET_KEY": "s" * 64,
    "SQLALCHEMY_DATABASE_URI": "postgresql://console@db.internal/console",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PUBLIC_URL": "https://console.example.nl",
    "RATELIMIT_STORAGE_URI": "",
    "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "admin_app" / "translations"),
}


def _refusals(**settings) -> list[str]:
    try:
        ProductionConfig.complete({**GOOD, **settings})
    except ConfigurationError as refused:
        return str(refused).splitlines()[1:]
    return []


@pytest.mark.parametrize(
    "setting, value, reason",
    [
        # Mailed links are PUBLIC_URL + path: each of these makes every link in every mail
        # broken (a space, a second "?", a port that does not exist) or odd (a password).
        ("PUBLIC_URL", " https://console.example.nl", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "https://console.example.nl \n", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "https://console example.nl", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "https://console.example.nl/?next=x", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "https://console.example.nl/#top", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "https://admin:pw@console.example.nl", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "https://console.example.nl:99999", "PUBLIC_URL must be"),
        ("PUBLIC_URL", "javascript://console.example.nl", "PUBLIC_URL must be"),
        # What systemd's EnvironmentFile makes of `SECRET_KEY=   # comment`: the comment.
        ("SECRET_KEY", "# long random string; required outside development", "SECRET_KEY"),
        ("SECRET_KEY", " " * 64, "SECRET_KEY"),
        ("SECRET_KEY", "0123456789abcdef", "SECRET_KEY"),
        ("REDIS_URL", "redis.internal:6379", "REDIS_URL must be"),
        ("REDIS_URL", "http://redis.internal:6379/0", "REDIS_URL must be"),
        # limits reads every one of these as memory:// (per process).
        ("RATELIMIT_STORAGE_URI", "MEMORY://", "RATELIMIT_STORAGE_URI"),
        ("RATELIMIT_STORAGE_URI", " memory://", "RATELIMIT_STORAGE_URI"),
        ("RATELIMIT_STORAGE_URI", "memory:", "RATELIMIT_STORAGE_URI"),
        ("RATELIMIT_STORAGE_URI", "async+memory://", "RATELIMIT_STORAGE_URI"),
        ("RATELIMIT_STORAGE_URI", "garbage", "RATELIMIT_STORAGE_URI"),
    ],
)
def test_issue17_operator_production_refuses_mistyped_settings(setting, value, reason):
    """R-IN-7: a value production cannot work with is refused at start, one line saying why."""
    refusals = _refusals(**{setting: value})
    assert len(refusals) == 1 and refusals[0].startswith("- " + reason), refusals


@pytest.mark.parametrize(
    "setting, value",
    [
        ("PUBLIC_URL", "https://console.example.nl/"),
        ("PUBLIC_URL", "HTTPS://console.example.nl:8443"),
        ("REDIS_URL", "rediss://:secret@redis.internal:6380/0"),
        ("REDIS_URL", "unix:///run/redis/redis-server.sock?db=1"),
        ("RATELIMIT_STORAGE_URI", "redis+sentinel://sentinel.internal:26379/console"),
        ("RATELIMIT_STORAGE_URI", "memcached://cache.internal:11211"),
    ],
)
def test_issue17_operator_production_takes_good_settings(setting, value):
    assert _refusals(**{setting: value}) == []


def test_issue17_operator_production_needs_the_dutch_catalog(tmp_path):
    """R-IN-7: .mo files are built, not committed. README's install without `make install`
    would serve every garage the English msgids; production refuses instead."""
    (tmp_path / "nl" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "nl" / "LC_MESSAGES" / "messages.po").write_text("")
    refusals = _refusals(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    assert len(refusals) == 1 and "make install" in refusals[0], refusals


def _systemd_environment_file(path: Path) -> dict[str, str]:
    """What systemd (252, Debian 12) makes of an EnvironmentFile=, for the lines a
    settings file has: comments only at the start of a line, `export` not understood,
    everything after the `=` the value (an inline `# …` included), quotes removed."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def test_issue17_operator_env_example_means_the_same_to_systemd():
    """README: copy .env.example to .env (python-dotenv) or to console.env (systemd's
    EnvironmentFile=). systemd keeps an inline comment as part of the value: SECRET_KEY
    became the comment's text, TICK_SECONDS a number followed by words."""
    example = ROOT / ".env.example"
    assert _systemd_environment_file(example) == {
        name: value or "" for name, value in dotenv_values(example).items()
    }


def test_issue17_operator_env_example_as_console_env_keeps_the_defaults():
    """systemd sets `TICK_SECONDS=` to "" where .env skips the line: empty means the default
    either way (it was int(""), a traceback, for every empty number)."""
    env = _systemd_environment_file(ROOT / ".env.example")
    env.update(PATH=os.environ["PATH"], CONSOLE_ENV_FILE="")
    code = (
        "import runpy, config; c = config.Config;"
        f" g = runpy.run_path({str(ROOT / 'deploy' / 'gunicorn.conf.py')!r});"
        " print(c.SQLALCHEMY_DATABASE_URI, c.PUBLIC_URL, c.RATELIMIT_STORAGE_URI, c.SMTP_PORT,"
        " c.TRUSTED_PROXIES, c.METRICS_ALLOW, c.TICK_SECONDS, c.BATCH_PARALLEL,"
        " g['bind'], g['forwarded_allow_ips'])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shown.stdout.split() == [
        f"sqlite:///{ROOT / 'instance' / 'console.db'}",
        "http://127.0.0.1:5000",
        "memory://",
        "25",
        "0",
        "127.0.0.1/8,::1",
        "30.0",
        "2",
        "127.0.0.1:8000",
        "127.0.0.1,::1",
    ], shown.stderr[-2000:]


def test_issue17_operator_env_example_lists_every_setting():
    """README: "Every setting is an environment variable; .env.example lists them all"."""
    read = set()
    for source in [ROOT / "config.py", ROOT / "deploy" / "gunicorn.conf.py"]:
        read |= set(
            re.findall(r"""environ(?:\.get)?[\[(]\s*["']([A-Z_]+)["']""", source.read_text())
        )
        read |= set(re.findall(r"""(?:_bool|setting)\(\s*["']([A-Z_]+)["']""", source.read_text()))
    # The tests' own database; the name of the file itself; the systemd unit's own (an
    # EnvironmentFile= line, even empty, would override its Environment=).
    read -= {"TEST_DATABASE_URL", "CONSOLE_ENV_FILE", "PROMETHEUS_MULTIPROC_DIR"}
    listed = set(dotenv_values(ROOT / ".env.example"))
    assert read - listed == set()


def test_issue17_operator_gunicorn_reads_the_dotenv(tmp_path):
    """.env is "seen by web, worker, flask commands and gunicorn": gunicorn's own settings
    (BIND, WEB_CONCURRENCY) are read by its master from gunicorn.conf.py before any worker
    imports config.py, so a BIND in .env or console.env was ignored."""
    env_file = tmp_path / "console.env"
    metrics = tmp_path / "metrics"
    env_file.write_text(
        f"BIND=127.0.0.1:5999\nWEB_CONCURRENCY=3\nPROMETHEUS_MULTIPROC_DIR={metrics}\n"
    )
    # From elsewhere, as systemd or a shell may start it: the file finds config.py itself.
    code = (
        f"import runpy; s = runpy.run_path({str(ROOT / 'deploy' / 'gunicorn.conf.py')!r});"
        " print(s['bind'], s['workers'], s['metrics_dir']);"
        # Nothing of the console in the master: workers forked on reload load the new code.
        " import sys; print(sorted({'config', 'flask_appbuilder', 'admin_app'} & set(sys.modules)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "CONSOLE_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.stdout.split() == ["127.0.0.1:5999", "3", str(metrics), "[]"], shown.stderr[-2000:]


def test_issue17_operator_make_run_refuses_production():
    """`make run` is the demo console: it loads demo logins with the password `demo` into
    an empty database. With a production .env (CONSOLE_ENV=production) it printed two
    tracebacks around the reasons, named a PUBLIC_URL nobody set, and would have put
    admin/demo into an empty production database once the settings were complete."""
    env = {
        "PATH": os.environ["PATH"],
        "CONSOLE_ENV_FILE": "",
        "CONSOLE_ENV": "production",
        "SECRET_KEY": "s" * 64,
        "DATABASE_URL": "postgresql://console@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PUBLIC_URL": "https://console.example.nl",
    }
    refused = subprocess.run(
        [sys.executable, "-m", "admin_app.devserver", "--port", "5999"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert "deploy/bin/web" in refused.stderr and "CONSOLE_ENV=production" in refused.stderr
    assert "demo data loaded" not in refused.stdout


def test_issue17_operator_smoke_run_never_reads_a_dotenv(tmp_path):
    """`make smoke-prod` ran deploy/ with the developer's environment: a .env with SENTRY_DSN,
    SMTP_STARTTLS or METRICS_ALLOW reached the production processes it starts."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import smoke_prod
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    env = smoke_prod.production_env(tmp_path, 1, 2, 3)
    assert env["CONSOLE_ENV_FILE"] == ""


def test_issue17_operator_nginx_site_loads_on_debian_12_and_hides_metrics(tmp_path):
    """Debian 12 ships nginx 1.22: `http2 on;` (1.25.1+) fails `nginx -t`. /metrics is for
    the scraper on the machine; through the proxy it is refused even when TRUSTED_PROXIES
    was forgotten (then every request through nginx comes from loopback)."""
    site = (ROOT / "deploy" / "nginx" / "garageconsole.conf").read_text()
    assert not re.search(r"^\s*http2\s+on\s*;", site, re.M)
    assert re.search(r"listen 443 ssl http2;", site)
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", site)
    if not shutil.which("nginx"):
        return
    # The site as installed, with a throwaway certificate: `nginx -t` as the operator runs it.
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=console.example.nl",
            "-keyout",
            tmp_path / "key.pem",
            "-out",
            tmp_path / "cert.pem",
        ],
        check=True,
        capture_output=True,
    )
    site = site.replace(
        "/etc/letsencrypt/live/console.example.nl/fullchain.pem", f"{tmp_path}/cert.pem"
    )
    site = site.replace(
        "/etc/letsencrypt/live/console.example.nl/privkey.pem", f"{tmp_path}/key.pem"
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    tested = subprocess.run(
        ["nginx", "-t", "-c", tmp_path / "nginx.conf", "-p", tmp_path],
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stderr


def test_issue17_operator_systemd_units_are_confined(tmp_path):
    """The services ran as their own user but with ProtectSystem=full: /opt (the code the
    next start runs), /var and /srv stayed writable, every capability bounded in
    (`systemd-analyze security`: 8.5 of 10, EXPOSED). Migrations ran by hand, without
    console.env (root's alone): now a unit of their own with the same user and settings."""
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert "garageconsole-migrate.service" in [unit.name for unit in units]
    migrate = (ROOT / "deploy" / "systemd" / "garageconsole-migrate.service").read_text()
    assert "ExecStart=/opt/garageconsole/deploy/bin/migrate\n" in migrate
    assert "EnvironmentFile=/etc/garageconsole/console.env\n" in migrate
    for unit in units:
        assert "ProtectSystem=strict\n" in unit.read_text(), unit.name
    if not shutil.which("systemd-analyze"):
        return
    for unit in units:
        installed = tmp_path / unit.name.replace("@.service", "@1.service")
        installed.write_text(
            unit.read_text()
            .replace("/opt/garageconsole", str(ROOT))
            .replace("/etc/garageconsole/console.env", "/dev/null")
        )
        # --threshold counts in tenths: exposure above 5.0 of 10 fails.
        rated = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes", "--threshold=50", installed],
            capture_output=True,
            text=True,
        )
        assert rated.returncode == 0, rated.stdout[-1500:]


def test_issue17_operator_readme_takes_an_operator_from_install_to_upgrade():
    """README named pip alone (no Dutch texts), deploy/bin/migrate by hand (without
    console.env), and neither where logs go nor how to upgrade."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running on real servers", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "make install",
        "systemctl start garageconsole-migrate",
        "useradd --system",
        "install -m 0600 .env.example /etc/garageconsole/console.env",
        "nginx -t",
        "journalctl -u garageconsole-web",
        "Upgrading: `git pull && make install`",
    ):
        assert needed in section, needed


def test_issue17_operator_odd_dotenv_files(tmp_path):
    """A NUL ended in `ValueError: embedded null byte` naming neither file nor variable;
    `${…}` was expanded (systemd does not: a password `a${b}c` differed between .env and
    console.env); a CONSOLE_ENV_FILE line made make run's worker and web read another file
    than make run did."""
    import config

    env_file = tmp_path / ".env"
    env_file.write_bytes(b"SMTP_PASSWORD=a\0b\n")
    with pytest.raises(ConfigurationError, match=r"\.env: the value of SMTP_PASSWORD holds a NUL"):
        config.load_env_file(env_file)
    env_file.write_bytes(b"SMTP_PASSWORD=\xff\xfe\n")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        config.load_env_file(env_file)
    env_file.write_text(
        f"CONSOLE_ENV_FILE={tmp_path / 'other.env'}\nSMTP_PASSWORD=a${{HOME}}c\n"
        "export SMTP_USER='garage user'  # a comment\n"
    )
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, config; c = config.Config; print(repr(c.SMTP_PASSWORD),"
            " repr(c.SMTP_USER), repr(os.environ['CONSOLE_ENV_FILE']))",
        ],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": "/root", "CONSOLE_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
    )
    assert shown.stdout.split("'")[1::2] == ["a${HOME}c", "garage user", str(env_file)], (
        shown.stderr
    )


def test_issue17_operator_gunicorn_believes_only_the_scheme_header_nginx_sets(
    monkeypatch, tmp_path
):
    """Through nginx, `X-Forwarded-Ssl: off` or `X-Forwarded-Protocol: http` from a client
    reached gunicorn beside nginx's X-Forwarded-Proto and got a 400."""
    import runpy

    # The file sets it for the workers it forks; this process's metrics stay as they are.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert settings["secure_scheme_headers"] == {"X-FORWARDED-PROTO": "https"}


def test_issue17_operator_make_run_says_when_its_port_is_taken():
    """A second `make run` migrated, printed "ready" and the demo logins, then ended with
    status 0 when its web server found the port taken."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = subprocess.run(
            [sys.executable, "-m", "admin_app.devserver", "--port", str(port)],
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], "CONSOLE_ENV_FILE": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert refused.returncode == 2
    assert f"Port {port} is in use" in refused.stderr and "ready" not in refused.stdout


def test_issue17_operator_make_run_is_ready_when_it_answers(monkeypatch):
    """ "ready in 21.5 s" was printed when the web server was started, ten seconds before it
    answered; and "no SMTP_HOST set" even with README's SMTP_HOST=127.0.0.1 make run."""
    from admin_app import devserver

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        web = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            assert not devserver.wait_for_web(port, web, timeout=0.5)  # not listening yet
            server.listen()
            assert devserver.wait_for_web(port, web, timeout=5)
        finally:
            web.kill()
            web.wait()
        assert not devserver.wait_for_web(port, web, timeout=5)  # it ended: never ready
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", "1025")
    assert devserver.mail_note() == "Mail goes to 127.0.0.1:1025."
    monkeypatch.setenv("SMTP_HOST", "")
    assert "Outbox" in devserver.mail_note()


@pytest.fixture()
def behind_nginx(app):
    app.config["TRUSTED_PROXIES"] = 1
    yield app
    app.config["TRUSTED_PROXIES"] = 0
    app.config["FORWARDED_ALLOW_IPS"] = "127.0.0.1,::1"


def test_issue17_operator_only_the_proxy_may_speak_for_the_client(behind_nginx):
    """With TRUSTED_PROXIES=1 the console believed X-Forwarded-For from whoever connected:
    a client reaching gunicorn past nginx (BIND=0.0.0.0:8000 for an nginx on another
    machine, as README's "web on as many machines as needed" leads to) said
    `X-Forwarded-For: 127.0.0.1` and read /metrics, or a new address per try and was
    never limited. gunicorn believes X-Forwarded-Proto only from FORWARDED_ALLOW_IPS; the
    console now believes every X-Forwarded-* header only from there too."""
    client = behind_nginx.test_client()
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    spoofed = client.get(
        "/metrics", environ_base=stranger, headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert spoofed.status_code == 404
    codes = [
        client.post(
            "/api/v1/security/login",
            json={"username": "niemand", "password": "fout", "provider": "db"},
            environ_base=stranger,
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(11)
    ]
    assert codes[-1] == 429 and 429 not in codes[:10]
    # nginx on this machine still speaks for its clients: one bucket each, /metrics refused.
    nginx = {"REMOTE_ADDR": "127.0.0.1"}
    assert (
        client.get(
            "/metrics", environ_base=nginx, headers={"X-Forwarded-For": "192.0.2.7"}
        ).status_code
        == 404
    )
    # An nginx elsewhere, named in FORWARDED_ALLOW_IPS (gunicorn's setting, the same
    # variable), speaks for its clients too.
    behind_nginx.config["FORWARDED_ALLOW_IPS"] = "10.0.0.5"
    assert (
        client.get(
            "/metrics",
            environ_base={"REMOTE_ADDR": "10.0.0.5"},
            headers={"X-Forwarded-For": "127.0.0.1"},
        ).status_code
        == 200
    )
