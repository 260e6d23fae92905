"""Issue 18, APK reminders on screens: the garage's setting on its settings page, and the
reminders as their own kind on the conversion dashboard (R-CP-4)."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import delete, select, update

from admin_app.domain.clock import local_today
from admin_app.models import ApkReminder, AuditLog, Garage, Invoice, Passport
from tests.services.test_apk_reminders_issue18 import MONDAY, owner_car, run
from tests.views.test_garage_settings_issue14 import SETTINGS


def _garage(world, name="Autobedrijf Jansen") -> Garage:
    world.session.expire_all()
    return world.session.scalars(select(Garage).where(Garage.name == name)).one()


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_issue18_the_garage_switches_apk_reminders_on_and_chooses_the_weeks(world, login_as):
    """Issue 18: on the garage's settings page, in words a garage understands; switching
    on skips the cars due within 5 weeks, the change is in the history."""
    jansen = _garage(world)
    jansen.apk_reminders = False
    world.session.commit()
    browser = login_as("garage-jansen")
    page = _text(browser.get("/my-garage/mine", follow_redirects=True))
    assert "APK-herinneringen: eigenaren mailen voordat hun APK verloopt" in page
    # When, how often, and what switching on leaves out, in words that cannot be misread
    # as "cars due within 5 weeks are never mailed".
    assert "'s ochtends, het gekozen aantal weken vóór die datum" in page
    assert "hoogstens één mail per week" in page
    assert "Auto's die binnen 5 weken na de dag waarop u dit aanzet verlopen" in page
    assert "6 weken" in page and "26 weken" in page
    response = browser.post(
        f"/my-garage/edit/{jansen.id}",
        {**SETTINGS, "apk_reminders": "y", "apk_reminder_weeks": "4"},
    )
    assert response.status_code == 302, _text(response)[:2000]
    jansen = _garage(world)
    assert (jansen.apk_reminders, jansen.apk_reminder_weeks) == (True, 4)
    assert jansen.apk_reminders_from == local_today() + dt.timedelta(weeks=5, days=1)
    changes = world.session.scalars(
        select(AuditLog.changes).where(
            AuditLog.table_name == "garage", AuditLog.record_id == jansen.id
        )
    ).all()
    assert any("apk_reminders" in (change or {}) for change in changes)
    show = _text(browser.get(f"/my-garage/show/{jansen.id}"))
    assert "APK-herinnering: weken vóór de vervaldatum 4" in show
    # Switched off: unticked.
    assert browser.post(f"/my-garage/edit/{jansen.id}", SETTINGS).status_code == 302
    assert _garage(world).apk_reminders is False


def test_issue18_a_weeks_choice_outside_the_list_is_refused_and_nothing_saved(world, login_as):
    """Issue 18: bad input gets a Dutch message; the stored weeks stay."""
    jansen = _garage(world)
    browser = login_as("garage-jansen")
    response = browser.post(
        f"/my-garage/edit/{jansen.id}",
        {**SETTINGS, "city": "Zeist", "apk_reminders": "y", "apk_reminder_weeks": "99"},
    )
    assert response.status_code == 200
    assert "Ongeldige keuze." in _text(response)
    assert 'value="Zeist"' in response.get_data(as_text=True)
    assert (_garage(world).apk_reminder_weeks, _garage(world).city) == (6, "Utrecht")


def test_issue18_conversion_dashboard_counts_reminders_as_their_own_kind(world, login_as):
    """Issue 18, R-CP-4: per week, the cars reminded, how many came back (invoiced within
    8 weeks after) and their value, in words; each garage sees its own."""
    s = world.session
    s.execute(delete(ApkReminder))  # the demo's history
    s.execute(update(Passport).values(apk_expiry=None))
    came_back, stayed_away = owner_car(world, 0), owner_car(world, 1)
    for car in (came_back, stayed_away):
        car.apk_expiry = MONDAY + dt.timedelta(weeks=6)
    s.commit()
    assert run(world, MONDAY).reminders == 2
    s.add(
        Invoice(
            garage_id=came_back.garage_id,
            invoice_date=MONDAY + dt.timedelta(weeks=3),
            plate=came_back.plate,
            customer_id=came_back.owner_id,
            amount_cents=12_345,
            kind="apk",
        )
    )
    s.commit()
    page = _text(login_as("garage-jansen").get("/proposals/conversion"))
    assert "APK-herinneringen" in page and "Auto's herinnerd" in page
    assert "week 10, 2030 2 1 50% € 123,45" in page
    other = _text(login_as("garage-devries").get("/proposals/conversion"))
    assert "week 10, 2030" not in other
    assert "Nog geen APK-herinneringen verstuurd" in other
    english = _text(login_as("garage-jansen").get("/proposals/conversion?_l_=en"))
    assert "Cars reminded" in english and "Came back within 8 weeks" in english
    export = login_as("garage-jansen").get("/proposals/conversion.xlsx").data
    sheet = load_workbook(BytesIO(export)).active
    header, *rows = sheet.iter_rows(values_only=True)
    assert header[5:] == (
        "APK-herinneringen",
        "teruggekomen binnen 8 weken",
        "conversie herinneringen",
        "waarde herinneringen",
    )
    assert ("2030-W10", None, None, None, None, 2, 1, 0.5, 123.45) in rows


def test_issue18_the_demo_shows_what_reminders_brought_in(world, login_as):
    """Issue 18, SPEC's demo data: a fresh console's conversion page has reminder weeks."""
    page = _text(login_as("garage-jansen").get("/proposals/conversion"))
    reminders = page.split("Auto's herinnerd", 1)[1]
    assert len(re.findall(r"week \d+, \d{4} [1-3] [0-3] ", reminders)) == 9


def test_issue18_the_fleet_manager_switches_his_weekly_overview_off_and_on_again(world, login_as):
    """Issue 18 (review): a stop link followed by mistake was for ever; the fleet manager
    switches his weekly APK overview off and on again on his dashboard, in the history."""
    from admin_app.models import ConsoleUser, FleetAccount

    s = world.session
    manager = s.scalars(select(ConsoleUser).where(ConsoleUser.username == "fleet-bakker")).one()
    fleet_id = manager.fleet_account_id
    browser = login_as("fleet-bakker")
    page = _text(browser.get("/my-fleet/list/"))
    assert "Wekelijks APK-overzicht per e-mail" in page and "Aan: eens per week" in page
    browser.fetch_csrf("/my-fleet/list/")
    answer = browser.post("/my-fleet/apk-overview", {"on": "0"})
    assert answer.status_code == 302
    s.expire_all()
    assert s.get(FleetAccount, fleet_id).apk_digest_stopped_at is not None
    page = _text(browser.get("/my-fleet/list/"))
    assert "Het wekelijkse APK-overzicht staat uit." in page and "Uit sinds" in page
    browser.post("/my-fleet/apk-overview", {"on": "1"})
    s.expire_all()
    assert s.get(FleetAccount, fleet_id).apk_digest_stopped_at is None
    changes = s.scalars(
        select(AuditLog).where(
            AuditLog.table_name == "fleet_account", AuditLog.record_id == fleet_id
        )
    ).all()
    assert any("apk_digest_stopped_at" in entry.changes for entry in changes)
    assert browser.post("/my-fleet/apk-overview", {"on": "1"}, csrf=False).status_code == 400
    garage = login_as("garage-jansen")
    assert garage.post("/my-fleet/apk-overview", {"on": "0"}).status_code == 404
    s.expire_all()
    assert s.get(FleetAccount, fleet_id).apk_digest_stopped_at is None
    # Admin may open the page but has no overview of his own: told so, nothing changed.
    admin = login_as("admin")
    admin.fetch_csrf("/users/add")
    assert admin.post("/my-fleet/apk-overview", {"on": "0"}).status_code == 302
    s.expire_all()
    assert s.get(FleetAccount, fleet_id).apk_digest_stopped_at is None
