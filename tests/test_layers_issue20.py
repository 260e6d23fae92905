"""Issue 20: the layers as drawn. `make lint` runs import-linter with the contracts in
.importlinter (views, api and jobs over web over services over models over domain; no
services → views/api/jobs; no models → services; no api → views); these tests run the
same check, so the suite fails on a broken arrow too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_issue20_the_import_contracts_are_kept():
    """Issue 20 ("The layers as drawn"): every contract of .importlinter is kept."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_issue20_the_domain_leaves_import_nothing_of_ours_but_each_other():
    """Issue 20: plates, money, the clock, reasons and the errors are a leaf models and
    services both use; one import of the app (its extensions, a model) would pull a layer
    under them."""
    reached = {}
    for path in sorted((ROOT / "admin_app" / "domain").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("admin_app") and not name.startswith("admin_app.domain"):
                    reached.setdefault(path.name, []).append(name)
    assert reached == {}
