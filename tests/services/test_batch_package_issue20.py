"""Issue 20, "the importer becomes a package": admin_app/services/batch_jobs/ is split along
its sections, each module small enough to read, no function too branchy to follow, and no
module reaching into another's private names (what is shared has a public domain name).

Read with ``ast`` and radon, not grep."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from radon.complexity import cc_visit

import admin_app

PACKAGE = Path(admin_app.__file__).parent / "services" / "batch_jobs"
MAX_LINES = 500
MAX_COMPLEXITY = 15


def modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def private_imports(source: str) -> list[str]:
    """The ``_names`` that ``source`` imports from a module of the admin_app package."""
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("admin_app")
        for alias in node.names
        if alias.name.startswith("_")
    ]


def test_issue20_the_importer_is_a_package_of_small_modules():
    """Issue 20: the 1,263-line module became a package; each module under 500 lines."""
    assert PACKAGE.is_dir() and not PACKAGE.with_suffix(".py").exists()
    assert len(modules()) > 1
    too_long = {
        path.name: n
        for path in modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    }
    assert too_long == {}


def test_issue20_no_importer_function_is_over_complexity_15():
    """Issue 20: radon's cyclomatic complexity of every function in the package ≤ 15."""
    branchy = {
        f"{path.name}:{block.fullname}": block.complexity
        for path in modules()
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > MAX_COMPLEXITY
    }
    assert branchy == {}


def test_issue20_no_private_name_is_imported_across_the_importers_modules():
    """Issue 20: what one module of the package uses from another is public."""
    found = {
        path.name: names
        for path in modules()
        if (names := private_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_issue20_the_private_import_check_sees_one():
    """The rule's reader: a private name imported from admin_app counts, others do not."""
    source = (
        "from admin_app.services.batch_jobs.planning import _planned, plan_rows\n"
        "from os import _exit\n"
    )
    assert private_imports(source) == ["admin_app.services.batch_jobs.planning._planned"]


SERVICES = PACKAGE.parent
CONCURRENCY = {"concurrent.futures", "threading", "multiprocessing"}


def concurrency_imports(source: str) -> list[str]:
    """The thread and process modules ``source`` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name in CONCURRENCY]
        elif isinstance(node, ast.ImportFrom) and node.module in CONCURRENCY:
            found.append(node.module)
    return found


def test_issue20_no_service_runs_threads_the_importers_job_does():
    """Issue 20: the chunks' thread pool is the job's (admin_app/jobs/batch.py), where the
    transactions are owned; services neither commit nor start threads."""
    found = {
        path.relative_to(SERVICES).as_posix(): names
        for path in sorted(SERVICES.rglob("*.py"))
        if (names := concurrency_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}
    jobs = PACKAGE.parents[1] / "jobs" / "batch.py"
    assert concurrency_imports(jobs.read_text(encoding="utf-8")) == ["concurrent.futures"]


def declared_columns(docstring: str) -> set[str]:
    """The chunk_plan columns a step's docstring says it reads and writes."""
    text = " ".join(docstring.split())
    declared: set[str] = set()
    for part in re.findall(r"(?:Reads|writes|Writes) chunk_plan: ([\w, ]+)", text):
        declared |= {name.strip() for name in part.split(",") if name.strip()}
    return declared


def used_columns(function: ast.FunctionDef) -> set[str]:
    """The chunk_plan columns a step names: ``plan.<column>`` (its ``self.plan.c``) and
    ``self.plan.c.<column>``."""
    used = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id == "plan":
            used.add(node.attr)
        elif ast.unparse(owner) == "self.plan.c":
            used.add(node.attr)
    return used


def chunk_plan_steps(source: str) -> dict[str, ast.FunctionDef]:
    """ChunkWriter's methods that touch the chunk plan (``self.plan``)."""
    tree = ast.parse(source)
    writer = next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "ChunkWriter"
    )
    return {
        node.name: node
        for node in writer.body
        if isinstance(node, ast.FunctionDef)
        and node.name != "run"
        and "self.plan" in ast.unparse(node)
    }


def undeclared_chunk_plan_columns(source: str) -> dict[str, set[str]]:
    """Per step, the chunk_plan columns it uses but does not name in its docstring."""
    return {
        name: missing
        for name, step in chunk_plan_steps(source).items()
        if (missing := used_columns(step) - declared_columns(ast.get_docstring(step) or ""))
    }


def test_issue20_each_chunk_step_says_which_chunk_plan_columns_it_reads_and_writes():
    """Issue 20: the chunk plan is a temporary table kept for speed; it is named and made in
    one place, and every step of the chunk writer that reads or writes it says which of its
    columns, in its docstring; no step reaches the module's table by name."""
    from admin_app.services.batch_jobs.chunk import CHUNK_PLAN

    source = (PACKAGE / "chunk.py").read_text(encoding="utf-8")
    steps = chunk_plan_steps(source)
    assert {"fill_plan", "find_customers", "create_passports", "record_outcomes"} <= set(steps)
    assert undeclared_chunk_plan_columns(source) == {}
    columns = {column.name for column in CHUNK_PLAN.columns}
    for name, step in steps.items():
        declared = declared_columns(ast.get_docstring(step) or "")
        assert declared and declared <= columns, name
        assert "CHUNK_PLAN" not in ast.unparse(step), name
    # Named once: the table, and the one function that makes it on a connection.
    named = [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Name) and node.id == "CHUNK_PLAN"
    ]
    assert len(named) == 3 and source.count('"chunk_plan"') == 1


def test_issue20_the_chunk_plan_check_sees_an_undeclared_column():
    """The rule's reader: a column used but not in the docstring is found."""
    source = '''
class ChunkWriter:
    def step(self):
        """Reads chunk_plan: row_id."""
        plan = self.plan.c
        return plan.row_id, plan.owner_id, self.plan.c.stock
'''
    assert undeclared_chunk_plan_columns(source) == {"step": {"owner_id", "stock"}}


def test_issue20_the_importer_mails_the_screens_one_activation_subject(app):
    """Issue 20, R-BJ-3: one activation mail, one text: the importer takes its subject from
    passports.activation_subject (the screens' "send"), not from a copy of its own."""
    from flask_babel import force_locale

    from admin_app.services.batch_jobs.run import RunTexts
    from admin_app.services.passports import activation_subject

    for path in modules():
        assert "AutoPassport for" not in path.read_text(encoding="utf-8"), path.name
    with app.test_request_context():
        subject = RunTexts.translated().mail_subject
        with force_locale("nl"):
            expected = activation_subject("%(plate)s", "%(garage)s")
    assert subject == expected == "Uw AutoPaspoort voor %(plate)s van %(garage)s"
