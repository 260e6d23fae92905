"""Issue 14 (use): what a person meets walking the finished screens (R-X-2)."""

from __future__ import annotations

import re


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_issue14_own_profile_names_the_garage_and_fleet(login_as):
    """R-X-2: a login's own profile (/users/userinfo/) names the garage or fleet it works
    for, as Admin's user screen does — it showed a dash for both."""
    text = _text(login_as("garage-jansen").get("/users/userinfo/"))
    assert "Garage Autobedrijf Jansen" in text
    text = _text(login_as("fleet-bakker").get("/users/userinfo/"))
    assert "Wagenpark Bouwbedrijf Bakker" in text
    for username in ("eigenaar", "admin", "support"):
        assert login_as(username).get("/users/userinfo/").status_code == 200


def test_issue14_transfers_panel_names_the_system_as_the_history_does(world, login_as):
    """R-TR-5, R-X-2: the profile's Overdrachten panel says who started a transfer in words
    — a job reads "Systeem" as in the Geschiedenis below it, not the stored "job:demo-data"."""
    from sqlalchemy import select

    from admin_app.models import Transfer

    transfer = world.session.scalars(
        select(Transfer).where(Transfer.garage_id == 1, Transfer.state == "pending")
    ).first()
    assert transfer.created_by.startswith("job:")
    page = login_as("garage-jansen").get(f"/passports/show/{transfer.passport_id}")
    body = page.get_data(as_text=True)
    panel = body[body.index("passport-transfers") : body.index("passport-mails")]
    assert "job:" not in panel
    assert "Systeem" in _text_of(panel)


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_issue14_saved_forms_say_saved_not_row_changed(world, login_as):
    """R-X-2: saving the garage's settings (or any FAB edit: a customer, Admin's garage and
    user screens) flashes "Opgeslagen." — FAB's own flash read "Rij gewijzigd", a
    database's word, and "Changed Row" in English."""
    jansen = world.garage("Autobedrijf Jansen")
    browser = login_as("garage-jansen")
    settings = {
        "name": "Autobedrijf Jansen",
        "street": "Industrieweg",
        "house_number": "12",
        "postcode": "3542 AD",
        "city": "Zeist",
        "phone": "030-2345678",
    }
    page = browser.post(f"/my-garage/edit/{jansen.id}", settings, follow_redirects=True)
    text = _text(page)
    assert "Opgeslagen." in text and "Rij " not in text
    admin = login_as("admin")
    page = admin.post(f"/garages/edit/{jansen.id}", settings, follow_redirects=True)
    assert "Opgeslagen." in _text(page) and "Rij " not in _text(page)


def test_issue14_admin_security_screens_say_weergave_not_visie(login_as):
    """R-X-2: FAB's Dutch calls a view "Visie" (vision) on Admin's permission screens; the
    menu already said "Weergave/Menu's"."""
    admin = login_as("admin")
    for path in ("/permissionviews/list/", "/viewmenus/list/"):
        text = _text(admin.get(path))
        assert "Visie" not in text and "Weergave" in text, path


def test_issue14_transfers_panel_names_the_person_who_started_it(world, login_as):
    """R-TR-5, R-X-2: a transfer the garage started reads "Gert Jansen" under Door, as the
    Geschiedenis names him — it printed his user name, garage-jansen."""
    from sqlalchemy import select

    from admin_app.models import Transfer
    from tests.views.test_passport_views import _transfer_form

    stock = world.passports(garage_id=1, stock_car=True, state="activated")[0]
    browser = login_as("garage-jansen")
    form = _transfer_form(browser, stock.id)
    response = browser.client.post(f"/passports/{stock.id}/transfer", data=form)
    assert response.status_code == 302, _text(response)[:3000]
    transfer = world.session.scalars(select(Transfer).where(Transfer.passport_id == stock.id)).one()
    assert transfer.created_by == "garage-jansen"
    body = browser.get(f"/passports/show/{stock.id}").get_data(as_text=True)
    panel = _text_of(body[body.index("passport-transfers") : body.index("passport-mails")])
    assert "Gert Jansen" in panel and "garage-jansen" not in panel


def test_issue14_support_sees_no_transfer_reason_on_a_fleet_car(world, login_as):
    """R-TR-4, R-PP-8: Support never transfers, so its profile shows no "Overdragen aan een
    klant" reason — it showed "ontkoppel hem eerst…" on a fleet-linked car only."""
    fleet_car = next(p for p in world.passports(garage_id=1) if p.fleet_account_id)
    text = _text(login_as("support").get(f"/passports/show/{fleet_car.id}"))
    assert "Overdragen aan een klant" not in text
    text = _text(login_as("garage-jansen").get(f"/passports/show/{fleet_car.id}"))
    assert "Overdragen aan een klant: Deze auto is gekoppeld aan een wagenpark" in text


def test_issue14_profile_says_the_email_bounced(world, login_as):
    """R-PP-5, R-BJ-7: a passport whose address bounced read only "Verzonden" at the top of
    its profile; the home page counts it as "E-mail onjuist" and so does its profile now."""
    from admin_app.models import Customer

    bounced = next(
        p
        for p in world.passports(garage_id=1, state="sent")
        if world.session.get(Customer, p.owner_id).email_bounced_at
    )
    healthy = next(
        p
        for p in world.passports(garage_id=1, state="sent")
        if not world.session.get(Customer, p.owner_id).email_bounced_at
    )
    browser = login_as("garage-jansen")
    assert "email-bounced" in browser.get(f"/passports/show/{bounced.id}").get_data(as_text=True)
    assert "email-bounced" not in browser.get(f"/passports/show/{healthy.id}").get_data(
        as_text=True
    )


def test_issue14_archived_profile_gives_archived_as_the_reason(world, login_as):
    """R-PP-6, R-PP-8: an archived passport's reasons said "only a passport not activated
    yet can be sent" and "a garage transfers its stock cars only" — neither is why — and
    then four lines of "archived"; it says it once."""
    archived = world.passports(garage_id=1, state="archived")[0]
    body = login_as("garage-jansen").get(f"/passports/show/{archived.id}").get_data(as_text=True)
    text = _text_of(body)
    assert "nog niet geactiveerd" not in text and "voorraadauto's over" not in text
    # The same reason for every button is said once (it was four lines saying it).
    assert text.count("gearchiveerd.") == 1 and "reason-archived" in body


def test_issue14_every_mail_kind_has_a_name_in_the_outbox(app):
    """R-X-2: the outbox listed the garage e-mail change mail as "garage_email_changed" —
    the kind was rendered (services/mails) but had no label, and the crawl's enum list
    did not know it. Every kind the mails render has a Dutch name."""
    from flask_babel import force_locale

    from admin_app.models.outbox import KIND_LABELS
    from admin_app.services.mails import RENDERERS

    assert set(RENDERERS) <= set(KIND_LABELS)
    with app.test_request_context(), force_locale("nl"):
        assert str(KIND_LABELS["garage_email_changed"]) == "Garage-e-mailadres gewijzigd"


def test_issue14_outbox_is_not_called_sent_mail(login_as):
    """R-X-2: the outbox lists mails waiting, failed and refused too; its Dutch title
    "Verzonden mail (outbox)" said they were all sent (and used the English word)."""
    text = _text(login_as("support").get("/outbox/list/"))
    assert "Uitgaande mail" in text
    assert "Verzonden mail" not in text and "outbox" not in text


def test_issue14_admin_user_form_speaks_plainly(login_as):
    """R-X-2: Admin's new-user form explained its fields with FAB's hints — "Gebruikersnaam
    geldig voor aanmelden via DB of LDAP, niet voor OID aanmelding", "e-mail adres" — and
    labelled "Bevestig Wachtwoord"."""
    text = _text(login_as("admin").get("/users/add"))
    for jargon in ("LDAP", "OID", "e-mail adres", "Bevestig Wachtwoord", "lijst van toestemmingen"):
        assert jargon not in text, jargon
    assert "Herhaal het wachtwoord" in text
    assert "De naam waarmee deze login zich aanmeldt." in text


def test_issue14_batch_jobs_list_names_who_uploaded(world, login_as):
    """R-BJ-5: "Mijn batch jobs" said Wie "garage-jansen"; it names the person as the
    history does, and keeps the stored name for a login that is gone."""
    from sqlalchemy import select

    from admin_app.models import BatchJob, ConsoleUser

    gert = world.session.scalars(
        select(ConsoleUser).where(ConsoleUser.username == "garage-jansen")
    ).one()
    for uploader_id, name in ((gert.id, "garage-jansen"), (None, "oud-account")):
        world.session.add(
            BatchJob(
                garage_id=gert.garage_id,
                filename=f"{name}.csv",
                uploaded_by_id=uploader_id,
                uploaded_by=name,
            )
        )
    world.session.commit()
    text = _text(login_as("garage-jansen").get("/batch-jobs/list/"))
    assert "garage-jansen.csv Gert Jansen" in text
    assert "oud-account.csv oud-account" in text


def test_issue14_the_odometer_reads_with_thousands_and_km(world, login_as):
    """R-X-2: "Kilometerstand 168.702 km" on the profile, not 168702 (the use review)."""
    from sqlalchemy import select

    from admin_app.models import Passport

    garage = world.garage("Autobedrijf Jansen")
    passport = world.session.scalars(
        select(Passport)
        .where(Passport.garage_id == garage.id, Passport.odometer >= 10_000)
        .limit(1)
    ).one()
    browser = login_as("garage-jansen")
    dutch = browser.get(f"/passports/show/{passport.id}").get_data(as_text=True)
    km = passport.odometer
    assert f"{km // 1000}.{km % 1000:03d} km" in dutch
    found = re.search(rf".{{80}}\b{km}\b.{{20}}", dutch, re.S)
    assert not found, found.group(0)


def test_issue14_weeks_read_as_week_and_year(world, login_as):
    """R-CP-2, R-CP-4: "week 50, 2026", not ISO's "2026-W50", on the week's proposals (with
    its previous and next buttons) and the conversion table (the use review)."""
    from tests.views.test_dutch_throughout_issue14 import text_nodes

    browser = login_as("garage-jansen")
    for url in ("/proposals/", "/proposals/conversion"):
        html = browser.get(url).get_data(as_text=True)
        texts = " | ".join(text_nodes(html))
        assert re.search(r"\bweek \d{1,2}, 20\d\d\b", texts), url
        assert not re.search(r"\b20\d\d-W\d\d\b", texts), url
