"""Issue 20, one helper each: every importer reads its table and matches its header through
`services/tables` (customer lists, invoices, recalls, the register), with one header key."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import admin_app
from admin_app.domain.errors import InvalidInput
from admin_app.services import customer_lists, register_import, tables

SERVICES = Path(admin_app.__file__).parent / "services"


@pytest.mark.parametrize(
    "spellings",
    [
        ("vervaldatum_apk", "Vervaldatum APK", "Vervaldatum-APK", '"VervaldatumAPK"'),
        ("\ufeffVervaldatum_APK", "vervaldatum - apk"),
        ("kenteken", " Kenteken ", "KENTEKEN", "\ufeffkenteken"),
        ("e-mail", "email", "E_mail", "E mail"),
    ],
)
def test_issue20_one_header_key_for_every_spelling(spellings):
    """R-BJ-1, issue 20: case, spaces, `-`, `_`, quotes and a byte-order mark do not make
    another column, for every importer alike."""
    assert len({tables.header_key(name) for name in spellings}) == 1


def _register_header(tmp_path, line: str) -> dict:
    path = tmp_path / "rdw.csv"
    path.write_text(line + "\n", encoding="utf-8")
    return register_import.read_header(path).at


def test_issue20_the_register_and_customer_lists_read_a_header_alike(tmp_path):
    """R-BJ-1, issue 18, issue 20: a header written without separators (as a hand-made
    file may have it) is the same column for a customer list and for the register; before
    issue 20 the register had a header key of its own that kept `brandstofomschrijving`
    apart from `brandstof_omschrijving`."""
    at = _register_header(tmp_path, "KENTEKEN,BRANDSTOFVOLGNUMMER,BrandstofOmschrijving")
    assert at == {"kenteken": 0, "brandstof_volgnummer": 1, "brandstof_omschrijving": 2}
    mapping = customer_lists.map_header(["KENTEKEN", "E_mail", "AchterNaam", "APKVervaldatum"])
    assert mapping == {0: "plate", 1: "email", 2: "last_name", 3: "apk_expiry"}


def test_issue20_the_register_names_a_column_given_twice_in_its_own_words(tmp_path):
    """Issue 18's message stays the register's own, while the columns are matched by
    tables.find_columns: `Kenteken` and `kenteken` are one column, given twice."""
    with pytest.raises(InvalidInput) as refused:
        _register_header(tmp_path, "Kenteken,kenteken,brandstof_volgnummer,brandstof_omschrijving")
    assert "kenteken" in str(refused.value) and "more than once" in str(refused.value)


def test_issue20_no_service_imports_a_private_name_of_another_module():
    """Issue 20: a helper two modules need is public, with a domain name (customer_lists'
    `_key` was imported by invoices and recalls)."""
    private = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("admin_app"):
                private += [
                    f"{path.name}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert private == []


def test_issue20_only_tables_parses_an_uploaded_list():
    """Issue 20: the importers of uploads (customer lists, invoices, recalls) read through
    tables.read_table / row_source; none of them opens a csv reader or a workbook itself.
    The register streams gigabytes from disk with a csv reader of its own, but matches its
    header through tables."""
    importers = [SERVICES / "customer_lists.py"]
    importers += sorted((SERVICES / "proposals").glob("*.py"))
    importers += sorted((SERVICES / "inspections").glob("*.py"))
    for path in importers:
        source = path.read_text(encoding="utf-8")
        assert "csv.reader(" not in source, path.name
        assert "read_first_sheet" not in source, path.name
    register = (SERVICES / "register_import" / "header.py").read_text(encoding="utf-8")
    assert "from admin_app.services.tables import" in register


# The reading and the importers issue 20 restructured: customer_lists.check_row was 20,
# workbooks._value 18, register_import.read_header 17.
READERS = ("tables.py", "workbooks.py", "customer_lists*", "register_import*")


def _reader_modules() -> list[Path]:
    return sorted(
        path
        for pattern in READERS
        for path in [*SERVICES.glob(pattern), *SERVICES.glob(f"{pattern}/*.py")]
        if path.is_file()
    )


def test_issue20_no_reader_function_is_too_complex_to_read():
    """Issue 20: every function of the spreadsheet reader and its importers stays at a
    cyclomatic complexity of 15 or less (radon's C), in named steps."""
    from radon.complexity import cc_visit

    too_complex = [
        f"{path.name}: {block.name} {block.complexity}"
        for path in _reader_modules()
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > 15
    ]
    assert too_complex == []


def test_issue20_every_reader_module_is_under_500_lines():
    """Issue 20: customer_lists (592 lines) and register_import (979) were split, the
    register's into a package (header, rows, generations, the steps in __init__)."""
    modules = _reader_modules()
    assert {"__init__.py", "header.py", "rows.py", "generations.py"} <= {p.name for p in modules}
    long = {path.name: n for path in modules if (n := len(path.read_text().splitlines())) >= 500}
    assert long == {}
