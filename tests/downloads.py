"""Reading what a download answered, as a spreadsheet program would."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def csv_rows(response) -> list[list[str]]:
    """The CSV's rows (UTF-8 with BOM, `;`, CRLF, as services/exports writes them)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    return [line.split(";") for line in text.split("\r\n") if line]


def xlsx_rows(response) -> list[list]:
    """The first sheet's rows, typed cells as openpyxl reads them."""
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]
