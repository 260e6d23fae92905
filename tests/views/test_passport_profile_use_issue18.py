"""Issue 18, the profile as a garage reads it: two APK dates side by side (typed and
RDW's) say which one counts; one date, or a model that differs, says nothing of it."""

from __future__ import annotations

import pytest

from tests.views.test_passport_fill_issue18 import _create

COUNTS = "De latere datum telt voor APK-herinneringen en contactvoorstellen."


@pytest.mark.parametrize("typed", ["01-09-2027", "14-03-2026"])  # later, earlier than RDW's
def test_issue18_two_apk_dates_say_the_later_counts(world, login_as, typed):
    browser = login_as("garage-jansen")
    location = _create(browser, apk_expiry=typed)
    profile = browser.get(location).get_data(as_text=True)
    assert profile.count(COUNTS) == 1
    english = browser.get(location + "?_l_=en").get_data(as_text=True)
    assert "The later date counts for APK reminders and contact proposals." in english


def test_issue18_one_apk_date_says_nothing_of_which_counts(world, login_as):
    browser = login_as("garage-jansen")
    profile = browser.get(_create(browser, model="Golf Variant")).get_data(as_text=True)
    assert "RDW: Golf" in profile and COUNTS not in profile
