"""The header of a register file (issue 18): which of the four datasets it holds and where
its columns are. The columns are matched as every importer's are (services/tables: the API's
`vervaldatum_apk` and the bulk download's `Vervaldatum APK` read alike; extra columns are
ignored); a file that is none of the four, or lacks a column its dataset needs, is refused
saying what to do.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import InvalidInput
from admin_app.models.register import DATASET_LABELS, Dataset
from admin_app.services.tables import find_columns, header_aliases, header_key, separator

SAMPLE = 64 * 1024  # bytes read to judge encoding, delimiter and binary content
SEPARATORS = (",", ";", "\t", "|")  # RDW writes `,`; a file saved again by Excel `;`

# Required and optional columns per dataset, by the names messages use; a header cell
# matches one as tables.header_key compares them (`Vervaldatum APK` is vervaldatum_apk).
REQUIRED = {
    Dataset.vehicles.value: (
        "kenteken",
        "merk",
        "handelsbenaming",
        "vervaldatum_apk",
        "datum_eerste_toelating",
    ),
    Dataset.fuel.value: ("kenteken", "brandstof_volgnummer", "brandstof_omschrijving"),
    Dataset.recall_status.value: ("referentiecode_rdw", "kenteken", "code_status"),
    Dataset.recall_details.value: ("referentiecode_rdw", "omschrijving_defect"),
}
OPTIONAL = {
    Dataset.vehicles.value: (
        "voertuigsoort",
        "datum_tenaamstelling",
        "eerste_kleur",
        "inrichting",
        "aantal_zitplaatsen",
        "catalogusprijs",
    ),
    Dataset.fuel.value: (),
    Dataset.recall_status.value: (),
    Dataset.recall_details.value: (
        "publicatiedatum_rdw",
        "beschrijving_van_het_herstel",
        "mogelijke_gevolgen",
    ),
}
# Columns only one dataset has: a file is the dataset most of them point to, so a file
# that lacks a required column is still recognized, and refused naming that column.
SIGNATURE = {
    Dataset.vehicles.value: {
        "merk",
        "handelsbenaming",
        "vervaldatum_apk",
        "datum_eerste_toelating",
        "voertuigsoort",
        "datum_tenaamstelling",
    },
    Dataset.fuel.value: {"brandstof_volgnummer", "brandstof_omschrijving"},
    Dataset.recall_status.value: {"code_status"},
    Dataset.recall_details.value: {
        "publicatiedatum_rdw",
        "omschrijving_defect",
        "beschrijving_van_het_herstel",
        "mogelijke_gevolgen",
    },
}


@dataclass(frozen=True)
class Header:
    dataset: str
    encoding: str
    delimiter: str
    at: dict[str, int]  # column name -> column index, for the columns the import reads


def _sniff(path: Path) -> tuple[str, str]:
    """(encoding, delimiter) of a register file, or a refusal a person can act on."""
    with open(path, "rb") as file:
        sample = file.read(SAMPLE)
    if not sample.strip():
        raise InvalidInput(_l("The file is empty."), field="file")
    if sample.startswith(b"PK\x03\x04"):
        raise InvalidInput(
            _l(
                "This is an Excel or zip file: register files are imported as CSV, as RDW "
                "publishes them."
            ),
            field="file",
        )
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" and some Windows tools save UTF-16: text, with NUL bytes.
        encoding = "utf-16"
        first_line = sample.decode(encoding, errors="replace").splitlines()[0]
        return encoding, separator(first_line, SEPARATORS)
    if b"\x00" in sample:
        raise InvalidInput(
            _l("This is no text file: register files are CSV files, as RDW publishes them."),
            field="file",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"  # saved again on a Dutch Windows machine
    first_line = sample.decode(encoding, errors="replace").splitlines()[0]
    return encoding, separator(first_line, SEPARATORS)


_BROKEN_HEADER = _l(
    "The file's first line is no header of column names: a quote is never closed or a "
    "name is longer than 131,072 characters."
)


def read_header(path: Path) -> Header:
    """The dataset a file holds and where its columns are; refused when it is none of the
    four, or lacks a column its dataset needs (named, in the reader's language)."""
    encoding, delimiter = _sniff(path)
    with open(path, encoding=encoding, errors="replace", newline="") as file:
        try:
            names = next(csv.reader(file, delimiter=delimiter, strict=True), [])
        except csv.Error:  # a quote never closed or a name past csv's field limit
            raise InvalidInput(_BROKEN_HEADER, field="file") from None
    dataset = _dataset_of(names)
    wanted = REQUIRED[dataset] + OPTIONAL[dataset]
    found, repeated = find_columns(names, header_aliases({name: (name,) for name in wanted}))
    # A column the import reads, twice: which one counts would be a guess (as a customer
    # list's, issue 13); RDW's files have none twice. Columns not read may repeat.
    twice = [name for name in wanted if name in repeated]
    if twice:
        raise InvalidInput(
            _l(
                "The file has the column(s) %(columns)s more than once: which one counts "
                "would be a guess. Refused.",
                columns=", ".join(twice),
            ),
            field="file",
        )
    at = {name: index for index, name in found.items()}
    missing = [name for name in REQUIRED[dataset] if name not in at]
    if missing:
        raise _columns_missing(dataset, missing)
    return Header(dataset, encoding, delimiter, {name: at[name] for name in wanted if name in at})


def _dataset_of(names: list[str]) -> str:
    """The dataset most of the header's columns point to (SIGNATURE); refused when none
    does."""
    keys = {header_key(name) for name in names}
    scores = {
        dataset: len({header_key(name) for name in SIGNATURE[dataset]} & keys)
        for dataset in SIGNATURE
    }
    dataset = max(scores, key=scores.__getitem__)
    if not scores[dataset]:
        raise InvalidInput(
            _l(
                "This file is no register file: its header has none of the columns of "
                "registered vehicles, fuel, recall status or recall details (such as "
                "kenteken, merk, brandstof_omschrijving, code_status)."
            ),
            field="file",
        )
    return dataset


def _columns_missing(dataset: str, missing: list[str]) -> InvalidInput:
    # Said with what to do: RDW's files have every column, so a missing one is a
    # download narrowed (the API's $select) or a file edited by hand.
    return InvalidInput(
        (
            _l(
                "The file of %(dataset)s lacks the column %(columns)s. Download the "
                "file again from RDW's open data (opendata.rdw.nl) with all its "
                "columns, and import that one.",
                dataset=DATASET_LABELS[dataset],
                columns=missing[0],
            )
            if len(missing) == 1
            else _l(
                "The file of %(dataset)s lacks the columns %(columns)s. Download the "
                "file again from RDW's open data (opendata.rdw.nl) with all its "
                "columns, and import that one.",
                dataset=DATASET_LABELS[dataset],
                columns=", ".join(missing),
            )
        ),
        field="file",
    )
