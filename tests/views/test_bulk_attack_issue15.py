"""Issue 15 (attack): bulk actions as a hostile or careless garage would use them."""

from __future__ import annotations

import re

COUNT_RE = re.compile(r'name="count" value="(\d+)"')


def test_issue15_attack_a_task_says_not_equal_when_the_filter_said_so(world, login_as):
    """Issue 15 / R-PP-4, R-X-2: "all that match: State not equal to Archived" (the
    filter the export and re-upload use) was stored without its "not": the task's page
    said the archived passports were sent. The selection keeps the filter's operator."""
    garage = login_as("garage-jansen")
    filter_args = "all=1&_flt_1_state=archived"
    page = garage.get(f"/passports/bulk/send?{filter_args}").get_data(as_text=True)
    count = COUNT_RE.search(page).group(1)
    assert "Status is niet Gearchiveerd" in page
    response = garage.post(f"/passports/bulk/send?{filter_args}", {"count": count})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    shown = garage.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Alle {count} die voldoen aan: Status is niet Gearchiveerd" in shown
    garage.get("/lang/en")
    shown = garage.get(response.headers["Location"]).get_data(as_text=True)
    assert f"All {count} that match: State is not Archived" in shown
    # An equal-to filter reads as before.
    page = garage.get("/passports/bulk/send?all=1&_flt_0_state=sent").get_data(as_text=True)
    assert "State: Sent" in page
