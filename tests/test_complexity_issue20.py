"""Issue 20 ("Done when"): no function over cyclomatic complexity 15 (radon) and no module
over 500 lines in services/. The check lives in
scripts/complexity.py, which `make lint` runs too."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _complexity():
    spec = importlib.util.spec_from_file_location("complexity", ROOT / "scripts" / "complexity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_issue20_no_function_over_15_and_no_service_module_over_500_lines():
    """Issue 20: radon's cyclomatic complexity of every function under admin_app/ is at most
    15 and every module under admin_app/services/ at most 500 lines, with no exception."""
    assert _complexity().problems() == []


def test_issue20_the_check_names_a_new_complex_function_and_a_long_module(tmp_path):
    """Issue 20: the check can fail — a function with 16 branches anywhere under admin_app/
    and a 501-line service module are named (a copy of the tree, not the tree itself)."""
    complexity = _complexity()
    shutil.copytree(
        ROOT / "admin_app",
        tmp_path / "admin_app",
        ignore=shutil.ignore_patterns("__pycache__", "static", "translations"),
    )
    branches = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(15))
    (tmp_path / "admin_app" / "views" / "tangled.py").write_text(f"def tangled(x):\n{branches}")
    (tmp_path / "admin_app" / "services" / "long.py").write_text("x = 1\n" * 501)
    said = complexity.problems(tmp_path)
    assert "admin_app/views/tangled.py:tangled: cyclomatic complexity 16 > 15" in said
    assert "admin_app/services/long.py: 501 lines > 500" in said
