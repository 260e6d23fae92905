"""Issue 15, lists to Excel, in the browser on a list that is not the passports': the
garage filters its customers by city, clicks "Excel" and gets exactly those customers,
with Dutch column names (R-SEC-1: its own garage's only)."""

from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import select

from admin_app.models import Customer
from tests.browser.conftest import log_in


def test_issue15_filtered_customer_list_downloads_as_excel(page, world, tmp_path):
    """Issue 15: the "Excel" link of the filtered customer list holds that filter's rows."""
    jansen = world.garage("Autobedrijf Jansen").id
    city = world.session.scalars(
        select(Customer.city).where(Customer.garage_id == jansen, Customer.city.is_not(None))
    ).first()
    expected = sorted(
        world.session.scalars(
            select(Customer.email).where(Customer.garage_id == jansen, Customer.city == city)
        )
    )
    log_in(page, "garage-jansen")
    page.goto(f"/customers/list/?_flt_0_city={city}")
    with page.expect_download() as download_info:
        page.click("a.export-xlsx")
    target = tmp_path / "klanten.xlsx"
    download_info.value.save_as(target)
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0] == ("Naam", "E-mail", "Plaats", "Klantnummer", "Garage")
    assert sorted(row[1] for row in rows[1:]) == expected and expected
    assert {row[2] for row in rows[1:]} == {city}
    assert {row[4] for row in rows[1:]} == {"Autobedrijf Jansen"}
