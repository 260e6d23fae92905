"""Issue 20 (attack): tables.header_key ignores more than the readers it replaced (quotes
and a byte-order mark besides case, spaces, `-` and `_`). It must never let one column
mean two fields, nor let a file through that names one field twice in two spellings."""

from __future__ import annotations

import pytest

from admin_app.domain.errors import InvalidInput
from admin_app.services import customer_lists
from admin_app.services.inspections.recall_file import RECALL_COLUMNS
from admin_app.services.proposals.invoices import INVOICE_HEADERS
from admin_app.services.register_import import header as register_header
from admin_app.services.tables import header_aliases, header_key, match_columns

DECLARED = {
    "customer lists": {**customer_lists.HEADERS, customer_lists.STATUS: ("status", "state")},
    "invoices": INVOICE_HEADERS,
    "recalls": {name: (name,) for name in RECALL_COLUMNS},
    **{
        f"register {dataset}": {
            name: (name,)
            for name in register_header.REQUIRED[dataset] + register_header.OPTIONAL[dataset]
        }
        for dataset in register_header.REQUIRED
    },
}


@pytest.mark.parametrize("importer", sorted(DECLARED))
def test_issue20_no_header_spelling_names_two_fields(importer):
    """header_aliases keeps the last field a key names: two fields whose names compare
    equal would silently read one column as the other."""
    fields_of_key: dict[str, set[str]] = {}
    for field, names in DECLARED[importer].items():
        for name in names:
            fields_of_key.setdefault(header_key(name), set()).add(field)
    assert {key: f for key, f in fields_of_key.items() if len(f) > 1} == {}


@pytest.mark.parametrize(
    "header",
    [
        ["kenteken", "E-mail", "email", "achternaam"],
        ["kenteken", "email", '"email"', "achternaam"],
        ["kenteken", "\ufeffemail", "e_mail", "achternaam"],
        ["Kenteken", "plate", "email", "achternaam"],
    ],
)
def test_issue20_a_list_naming_one_field_twice_is_refused(header):
    with pytest.raises(InvalidInput, match="hold the same thing"):
        match_columns(header, customer_lists.ALIASES)


def test_issue20_an_invoice_file_with_two_date_columns_is_refused():
    header = ["factuurdatum", "Datum", "kenteken", "bedrag", "soort"]
    with pytest.raises(InvalidInput, match="hold the same thing"):
        match_columns(header, header_aliases(INVOICE_HEADERS))
