"""Issue 14, settings that can be saved: the advice follow-up default (R-CP-3) is a yes/no
on the garage's own settings and Admin's garage edit and add; the settings page shows the
garage e-mail (R-PP-3) and its own page changes it."""

from __future__ import annotations

from sqlalchemy import func, select

from admin_app.models import Garage, OutboxMessage

SETTINGS = {
    "name": "Autobedrijf Jansen",
    "street": "Industrieweg",
    "house_number": "12",
    "postcode": "3542 AD",
    "city": "Utrecht",
    "phone": "030-2345678",
}


def _garage(world, name="Autobedrijf Jansen"):
    world.session.expire_all()
    return world.session.scalars(select(Garage).where(Garage.name == name)).one()


def test_issue14_r_cp_3_garage_saves_its_settings_with_advice_followup_off(world, login_as):
    """R-CP-3: unticked means "no" and saves; ticked means "yes"."""
    jansen = world.garage("Autobedrijf Jansen")
    jansen.advice_followup_default = True
    world.session.commit()
    browser = login_as("garage-jansen")
    response = browser.post(f"/my-garage/edit/{jansen.id}", {**SETTINGS, "city": "Zeist"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert (_garage(world).city, _garage(world).advice_followup_default) == ("Zeist", False)
    response = browser.post(
        f"/my-garage/edit/{jansen.id}", {**SETTINGS, "advice_followup_default": "y"}
    )
    assert response.status_code == 302
    assert _garage(world).advice_followup_default is True


def test_issue14_r_cp_3_admin_edits_and_adds_a_garage_with_advice_followup_off(world, login_as):
    jansen = world.garage("Autobedrijf Jansen")
    jansen.advice_followup_default = True
    world.session.commit()
    admin = login_as("admin")
    response = admin.post(f"/garages/edit/{jansen.id}", {**SETTINGS, "phone": "030-1111111"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert (_garage(world).phone, _garage(world).advice_followup_default) == ("030-1111111", False)
    response = admin.post(
        "/garages/add",
        {**SETTINGS, "name": "Garage Nieuw", "email": " Info@Garage-NIEUW.nl "},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    new = _garage(world, "Garage Nieuw")
    assert (new.email, new.advice_followup_default) == ("Info@garage-nieuw.nl", False)


def test_issue14_r_pp_3_admin_cannot_add_a_garage_with_an_address_in_use(world, login_as):
    """The new garage's e-mail is checked like the change: refused, in Dutch, kept."""
    admin = login_as("admin")
    count = world.session.scalar(select(func.count()).select_from(Garage))
    response = admin.post(
        "/garages/add", {**SETTINGS, "name": "Garage Dubbel", "email": "INFO@garagedevries.nl"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Een andere garage gebruikt dit e-mailadres al." in page
    assert "Garage Dubbel" in page and "INFO@garagedevries.nl" in page
    assert world.session.scalar(select(func.count()).select_from(Garage)) == count


def test_issue14_r_pp_3_settings_page_shows_the_garage_email_and_changes_it(world, login_as):
    """The settings page shows the garage e-mail and leads to its own form, which says
    what the change means, refuses a bad address with the typed text kept, and mails."""
    browser = login_as("garage-jansen")
    page = browser.get("/my-garage/mine", follow_redirects=True).get_data(as_text=True)
    assert "werkplaats@autobedrijf-jansen.nl" in page and "/my-garage/email" in page
    form = browser.get("/my-garage/email").get_data(as_text=True)
    assert "houden hun kenmerk voorraadauto" in form
    response = browser.post("/my-garage/email", {"email": "voorraad@jansen"})
    refused = response.get_data(as_text=True)
    assert "geen geldig e-mailadres" in refused and 'value="voorraad@jansen"' in refused
    assert _garage(world).email == "werkplaats@autobedrijf-jansen.nl"
    response = browser.post("/my-garage/email", {"email": "voorraad@autobedrijf-jansen.nl"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-garage/mine")
    assert _garage(world).email == "voorraad@autobedrijf-jansen.nl"
    recipients = world.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.kind == "garage_email_changed")
    ).all()
    assert sorted(recipients) == [
        "voorraad@autobedrijf-jansen.nl",
        "werkplaats@autobedrijf-jansen.nl",
    ]


def test_issue14_r_pp_3_admin_changes_a_garage_email_support_may_not(world, login_as):
    devries = world.garage("Garage De Vries")
    admin = login_as("admin")
    assert f"/garages/{devries.id}/email" in admin.get(f"/garages/show/{devries.id}").get_data(
        as_text=True
    )
    response = admin.post(f"/garages/{devries.id}/email", {"email": "balie2@garagedevries.nl"})
    assert response.status_code == 302
    assert _garage(world, "Garage De Vries").email == "balie2@garagedevries.nl"
    support = login_as("support")
    assert f"/garages/{devries.id}/email" not in support.get(
        f"/garages/show/{devries.id}"
    ).get_data(as_text=True)
    assert support.get(f"/garages/{devries.id}/email").status_code in (403, 404)
