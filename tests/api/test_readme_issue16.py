"""Issue 16 (R-X-4, R-PP-6): an integrator follows README's API section literally — its
`curl` calls with a garage's API key, and its Python that verifies a webhook signature.

The README is the integrator's first page; these tests run what it shows, so a step that
does not work as written (an undefined variable, a tool a machine lacks) fails here."""

from __future__ import annotations

import re
import shlex
import subprocess
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from tests.api.test_api_keys_issue16 import calling, make_key
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="documentation; rules run on both")
README = Path(__file__).resolve().parents[2] / "README.md"


def api_section() -> str:
    text = README.read_text()
    return text[text.index("## API\n") : text.index("## Running on real servers")]


def shell_commands(section: str) -> list[str]:
    """Every command of the section's ```sh blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        commands += [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return commands


def expand(command: str, variables: dict) -> str:
    """$(…) run by the shell, as a reader's terminal would; then $NAME from `variables`."""
    while "$(" in command:
        start = depth = command.index("$(")
        depth, end = 0, start + 1
        for end in range(start + 1, len(command)):
            depth += {"(": 1, ")": -1}.get(command[end], 0)
            if depth == 0:
                break
        inner = command[start + 2 : end]
        output = subprocess.run(["bash", "-c", inner], capture_output=True, text=True).stdout
        command = command[:start] + output.strip() + command[end + 1 :]
    return re.sub(r"\$([A-Z_]+)", lambda m: variables.get(m.group(1), ""), command)


def as_request(words: list[str]) -> tuple[str, str, dict, str | None]:
    method, headers, data, url = "GET", {}, None, None
    words = iter(words[1:])
    for word in words:
        if word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(words)
            method = "POST" if method == "GET" else method
        else:
            url = word
    parts = urlsplit(url)
    return method, parts.path + (f"?{parts.query}" if parts.query else ""), headers, data


def test_issue16_use_the_readmes_curl_calls_work_as_written(app, world, login_as):
    """R-X-4, R-PP-6: with the key the console showed once, each `curl` of README's API
    section answers without a refusal, and a POST sent again with its Idempotency-Key is
    answered from the store (`Idempotent-Replayed: true`), nothing done twice."""
    secret = make_key(login_as("garage-jansen"), name="README")
    jansen = world.garage("Autobedrijf Jansen")
    # README's "42" stands for one of the caller's own active passports.
    ours = world.passports(garage_id=jansen.id, state="activated")[0].id
    variables: dict[str, str] = {}
    calls = 0
    for line in shell_commands(api_section()):
        assignment = re.match(r"^([A-Z_]+)=(.*)$", line)
        if assignment:
            name, rest = assignment.groups()
            value = shlex.split(expand(rest, variables), comments=True)[0]
            variables[name] = secret if value == "gk_…" else value
            continue
        # A reader pastes their key where the README shows "gk_…".
        words = shlex.split(expand(line.replace("gk_…", secret), variables), comments=True)
        assert words[0] == "curl", line
        method, path, headers, data = as_request(words)
        path = path.replace("/passport/42/", f"/passport/{ours}/")
        api = calling(app, secret)
        first = api.open(path, method=method, headers=headers, data=data)
        assert first.status_code < 400, (line, first.status_code, first.get_json())
        if "Idempotency-Key" in headers:
            assert re.fullmatch(r"[ -~]{1,255}", headers["Idempotency-Key"]), line
            again = api.open(path, method=method, headers=headers, data=data)
            assert again.headers.get("Idempotent-Replayed") == "true", line
            assert again.get_json() == first.get_json()
        calls += 1
    assert calls >= 3


def test_issue16_use_the_readmes_python_verifies_a_console_signature():
    """Signed webhooks: README's receiver, run as written with a secret the console made,
    accepts a message the console signed, drops its retry (same webhook-id), and refuses a
    changed body."""
    from admin_app.jobs.webhooks import headers_for
    from admin_app.services import webhooks

    block = re.search(r"```python\n(.*?)```", api_section(), re.S).group(1)
    secret = webhooks.new_secret()
    seen: set[str] = set()

    def already_seen(message_id: str) -> bool:
        known = message_id in seen
        seen.add(message_id)
        return known

    namespace = {"already_seen": already_seen}
    exec(block.replace('"whsec_…"', repr(secret)), namespace)  # noqa: S102 (the README's own code)
    receive = namespace["receive"]
    body = b'{"type":"passport.activated","timestamp":"2026-12-06T04:00:00Z","data":{"id":42}}'
    event = SimpleNamespace(message_id=f"msg_{uuid.uuid4().hex}")
    headers = {k.lower(): v for k, v in headers_for(event, [secret], body).items()}
    assert receive(body, headers)["data"] == {"id": 42}
    assert receive(body, headers) == {}  # the retry: deduplicated by webhook-id
    with pytest.raises(PermissionError):
        receive(body.replace(b"42", b"43"), headers)
