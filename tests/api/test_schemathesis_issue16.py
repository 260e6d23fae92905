"""Issue 16, R-X-4: schemathesis fuzzes the API as each integrating role (Garage, Support)
against the OpenAPI document the app serves, in-process (WSGI), with a fixed seed and 10
examples per operation, on the run's own database with the demo data (`world`).

Checks: no 5xx, every status is documented, every body and content type is the
document's. Whatever it finds is fixed in the app; exclusions are listed below with
their reason (none today). Destructive operations (archive, cancel, unlink) run too: the
database is this run's. PostgreSQL only, for the suite's time; on SQLite by hand with
SCHEMATHESIS_ON_SQLITE=1.
"""

from __future__ import annotations

import os
import time
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(
    DB_KIND != "postgresql" and not os.environ.get("SCHEMATHESIS_ON_SQLITE"),
    reason="issue 16 runs the fuzzing on PostgreSQL (the suite's 20 minutes)",
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# (method, path) → why it is not fuzzed. Empty: every finding so far was fixed in the app.
EXCLUDED: dict[tuple[str, str], str] = {}
BUDGET_S = 180


def _fuzz(operation, headers, findings) -> None:
    @settings(
        max_examples=10,
        derandomize=True,  # a fixed seed: the same cases every run
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        try:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as error:  # every finding, not the first
            findings.setdefault(
                f"{operation.method.upper()} {operation.path}",
                f"{type(error).__name__}: {str(error)[:1500]}\n"
                + "".join(traceback.format_exception(error)[-3:])[:1500],
            )

    run()


@pytest.mark.parametrize("username", ["garage-jansen", "support"])
def test_issue16_schemathesis_finds_nothing(app, world, api_client, username):
    """R-X-4: no 5xx and nothing outside the document, for Garage and for Support."""
    client = api_client(username)
    headers = {"Authorization": client.environ_base["HTTP_AUTHORIZATION"]}
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is a response, reported as one
    schema = schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=headers)
    findings: dict[str, str] = {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        _fuzz(operation, headers, findings)
    elapsed = time.monotonic() - started
    assert not findings, "\n\n".join(f"{k}\n{v}" for k, v in findings.items())
    assert elapsed < BUDGET_S
