"""Issue 20 ("Checked by tools, in `make lint`"): mypy over `services/`, `jobs/` and
`scope.py` finds no errors. `make lint` runs the same check; this test makes the suite
fail on a type error too. The files and settings are pyproject.toml's `[tool.mypy]`."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_issue20_mypy_finds_no_errors_in_services_jobs_and_the_scope(monkeypatch):
    """Issue 20: `mypy` (pyproject's files: services, jobs, scope.py) reports no error."""
    monkeypatch.chdir(ROOT)  # mypy reads its settings from the working directory
    report, errors, status = api.run([])
    assert status == 0, report[-6000:] + errors[-2000:]
    assert "Success: no issues found" in report
