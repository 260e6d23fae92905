"""Issue 20's size limits, checked by `make lint` and tests/test_complexity_issue20.py.

No function or method under admin_app/ over cyclomatic complexity 15 (radon's count, as
`radon cc` shows it), and no module under admin_app/services/ over 500 lines (a package
counts module by module). A newcomer reads a function whole and a module in one sitting;
past these sizes the review of issue 20 found people lost.

There is no list of exceptions: issue 20 brought every offender under the limits. Run
`python scripts/complexity.py` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

ROOT = Path(__file__).resolve().parents[1]
MAX_COMPLEXITY = 15
MAX_SERVICE_LINES = 500


def complex_functions(root: Path = ROOT) -> dict[str, int]:
    """Every function and method under admin_app/ over MAX_COMPLEXITY, with its count."""
    found = {}
    for path in sorted((root / "admin_app").rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            # cc_visit lists functions, classes and (after each class) its methods; a class's
            # figure sums its methods, so only functions and methods are judged.
            if isinstance(block, Function) and block.complexity > MAX_COMPLEXITY:
                found[f"{path.relative_to(root).as_posix()}:{block.fullname}"] = block.complexity
    return found


def long_service_modules(root: Path = ROOT) -> dict[str, int]:
    """Every module under admin_app/services/ over MAX_SERVICE_LINES, with its length."""
    found = {}
    for path in sorted((root / "admin_app" / "services").rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_SERVICE_LINES:
            found[path.relative_to(root).as_posix()] = lines
    return found


def problems(root: Path = ROOT) -> list[str]:
    """What breaks the limits, one line each."""
    said = [
        f"{name}: cyclomatic complexity {count} > {MAX_COMPLEXITY}"
        for name, count in sorted(complex_functions(root).items())
    ]
    said += [
        f"{name}: {lines} lines > {MAX_SERVICE_LINES}"
        for name, lines in sorted(long_service_modules(root).items())
    ]
    return said


def main() -> int:
    said = problems()
    for line in said:
        print(line)
    if said:
        print(f"scripts/complexity.py: {len(said)} problem(s)")
        return 1
    print("scripts/complexity.py: nothing over the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
