"""Issue 13 (critical): every mailed link acts only for the address it was mailed to.

Links are made when the worker writes a mail (services/mails); each is bound to its
recipient and login, void once the address changes or a newer link is mailed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from admin_app.db import unit_of_work
from admin_app.domain.errors import InvalidInput, NotFound
from admin_app.models import (
    AccessToken,
    ContactProposal,
    Customer,
    InspectionForm,
    OutboxMessage,
    Passport,
    PassportClaim,
    Transfer,
)
from admin_app.models.base import utcnow
from admin_app.services import accounts, inspections, transfers
from admin_app.services import passports as rules
from admin_app.services.outbox import queue_mail
from admin_app.services.passports import PersonDetails
from tests.mails import last_mail, mail_text

ACTIVATE = re.compile(r"/activate/(\S+)")
ATTACKER = "aanvaller@example.nl"
VICTIM = "eigenaar@example.nl"  # the demo Owner login "eigenaar"


def person(email, last_name="Klant"):
    return PersonDetails.from_mapping({"email": email, "last_name": last_name})


def victim_login(session):
    """An Owner login at an address no demo garage has typed."""
    victim = accounts.create_login(
        session,
        username="slachtoffer@example.nl",
        email="slachtoffer@example.nl",
        first_name="S",
        last_name="Lachtoffer",
        role_name="Owner",
        password="eigen-wachtwoord",
    )
    session.commit()
    return victim


def new_passport(session, acting, email, plate="12-ABC-3"):
    with unit_of_work(session):
        return rules.create_passport(session, actor=acting.actor, plate=plate, person=person(email))


def test_issue13_activation_link_is_void_once_the_address_changed(acting_as, world):
    """The takeover: a garage mails itself a link, then points the customer at a victim."""
    s = world.session
    with acting_as("garage-devries") as acting:
        passport = new_passport(s, acting, ATTACKER)
        with unit_of_work(s):
            rules.send_passport(s, passport.id, actor=acting.actor)
        raw = ACTIVATE.search(mail_text(s)).group(1)
        with unit_of_work(s):
            rules.update_customer(s, passport.owner_id, {"email": VICTIM}, actor=acting.actor)
    victim = world.user("eigenaar")
    with acting_as(None):
        for password in (None, "demo", "nieuw-wachtwoord"):
            with pytest.raises(InvalidInput, match="niet geldig"):
                rules.activate_passport(s, raw, password=password, confirm=password)
    s.refresh(victim)
    assert s.get(PassportClaim, (passport.id, "owner")) is None
    assert check_password_hash(victim.password, "demo")  # untouched


def test_issue13_driver_link_never_sets_an_existing_logins_password(acting_as, world):
    s = world.session
    victim = victim_login(s)
    fleet_car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    with acting_as("fleet-bakker") as acting:
        with unit_of_work(s):
            transfers.start_transfer(
                s, fleet_car.id, actor=acting.actor, person=person(ATTACKER), kind="driver"
            )
    raw = re.search(r"/access/(\S+)", mail_text(s)).group(1)
    driver = s.scalars(select(Customer).where(Customer.email == ATTACKER)).one()
    with acting_as("garage-jansen") as acting, unit_of_work(s):
        rules.update_customer(s, driver.id, {"email": victim.email}, actor=acting.actor)
    with acting_as(None), pytest.raises(InvalidInput, match="niet geldig"):
        rules.grant_driver_access(s, raw, password="overgenomen!", confirm="overgenomen!")
    s.refresh(victim)
    assert check_password_hash(victim.password, "eigen-wachtwoord")
    assert s.get(PassportClaim, (fleet_car.id, "driver")) is None


def test_issue13_driver_with_a_login_claims_the_car_with_his_own_password(acting_as, world):
    s = world.session
    fleet_car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    with acting_as("fleet-bakker") as acting, unit_of_work(s):
        transfers.start_transfer(
            s, fleet_car.id, actor=acting.actor, person=person(VICTIM), kind="driver"
        )
    raw = re.search(r"/access/(\S+)", mail_text(s)).group(1)
    with acting_as(None):
        with pytest.raises(InvalidInput, match="niet het wachtwoord"):
            rules.grant_driver_access(s, raw, password="overgenomen!", confirm="overgenomen!")
        with unit_of_work(s):
            user = rules.grant_driver_access(s, raw, password="demo")
    assert user.id == world.user("eigenaar").id
    s.refresh(fleet_car)
    assert s.get(PassportClaim, (fleet_car.id, "driver")).user_id == user.id


def test_issue13_only_the_newest_link_works_even_when_two_were_made_at_once(acting_as, world):
    s = world.session
    with acting_as("garage-jansen") as acting:
        passport = new_passport(s, acting, "nieuw.klant@example.nl")
        for _ in range(4):  # four resends over some minutes: four mails
            with unit_of_work(s):
                rules.mail_activation_link(s, passport)
    mails = s.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "activation").order_by(OutboxMessage.id)
    ).all()[-4:]
    links = [ACTIVATE.search(mail_text(s, mail)).group(1) for mail in mails]
    # Two transactions at once each void what they see: neither sees the other's link.
    with unit_of_work(s):
        s.add(
            AccessToken(
                purpose=rules.ACTIVATION,
                token_hash="0" * 64,
                recipient="nieuw.klant@example.nl",
                subject_id=passport.id,
                expires_at=utcnow() + timedelta(days=7),
            )
        )
    with acting_as(None):
        for raw in links:
            with pytest.raises(InvalidInput):
                rules.activate_passport(s, raw, password="geheim-ww1", confirm="geheim-ww1")


def test_issue13_a_typed_address_shows_an_owner_nothing_until_he_claims_it(acting_as, world):
    s = world.session
    owner = world.user("eigenaar")
    with acting_as("garage-devries") as acting:
        passport = new_passport(s, acting, VICTIM)
        with unit_of_work(s):
            rules.send_passport(s, passport.id, actor=acting.actor)
    raw = ACTIVATE.search(mail_text(s)).group(1)
    with acting_as("eigenaar"):
        seen = {p.id for p in s.scalars(select(Passport)).unique()}
    assert passport.id not in seen and seen  # his claimed cars at Jansen, not this one
    with acting_as(None), unit_of_work(s):
        rules.activate_passport(s, raw, password="demo")
    with acting_as("eigenaar"):
        assert passport.id in {p.id for p in s.scalars(select(Passport)).unique()}
    assert s.get(PassportClaim, (passport.id, "owner")).user_id == owner.id


def test_issue13_an_owners_car_waiting_for_its_buyer_stays_visible(acting_as, world):
    s = world.session
    mine = s.get(Passport, _held(world)[0])
    with acting_as("eigenaar") as acting, unit_of_work(s):
        transfers.start_transfer(
            s, mine.id, actor=acting.actor, person=person("support@autopaspoort.example")
        )
    s.refresh(mine)
    assert mine.state == "transfer_pending"
    with acting_as("eigenaar"):
        assert mine.id in {p.id for p in s.scalars(select(Passport)).unique()}


def _held(world) -> list[int]:
    """The cars eigenaar holds as their owner."""
    return world.session.scalars(
        select(PassportClaim.passport_id).where(
            PassportClaim.user_id == world.user("eigenaar").id, PassportClaim.role == "owner"
        )
    ).all()


def test_issue13_reset_link_is_void_once_the_users_address_changed(acting_as, world):
    s = world.session
    user = world.user("support")
    with acting_as(None), unit_of_work(s):
        accounts.mail_password_link(s, user, welcome=False)
    raw = re.search(r"/reset-password/(\S+)", mail_text(s)).group(1)
    user.email = "nieuw.adres@autopaspoort.example"
    s.commit()
    with acting_as(None), pytest.raises(InvalidInput, match="niet geldig"):
        accounts.reset_password(s, raw, "nieuw-wachtwoord", "nieuw-wachtwoord")


def test_issue13_inspection_link_expires_after_90_days(acting_as, world):
    s = world.session
    form = _mailed_form(s, acting_as)
    raw = mail_text(s).split("/inspection/")[1].split()[0]
    assert inspections.form_from_link(s, raw)[0].id == form.id
    token = s.scalars(select(AccessToken).order_by(AccessToken.id.desc())).first()
    assert timedelta(days=89, hours=23) < token.expires_at - utcnow() <= timedelta(days=90)
    token.expires_at = utcnow() - timedelta(seconds=1)
    s.commit()
    with pytest.raises(NotFound):
        inspections.form_from_link(s, raw)


def _mailed_form(s, acting_as):
    form = s.scalars(select(InspectionForm).where(InspectionForm.version > 0)).first()
    login = "garage-jansen" if form.garage.name.startswith("Autobedrijf") else "garage-devries"
    with acting_as(login) as acting, unit_of_work(s):
        inspections.mail_again(s, form.id, actor=acting.actor)
    return form


def test_issue13_inspection_link_hides_versions_saved_after_the_car_was_sold(acting_as, world):
    from tests.services.test_inspections import DAY, _edit, _jansen_passport, _new, _save

    s = world.session
    car = _jansen_passport(world)
    seller = car.owner
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "customer", car)
        _edit(s, acting, form, {"advice": [{"description": "Remlamp", "price": "12,50"}]})
        _save(s, acting, form)  # version 1, mailed to the seller
    raw = mail_text(s).split("/inspection/")[1].split()[0]
    assert inspections.form_from_link(s, raw) == (form, 1)
    # The car is sold; the garage saves the form again afterwards.
    buyer = Customer(garage_id=car.garage_id, last_name="Koper", email="koper@example.nl")
    s.add(buyer)
    s.flush()
    s.add(
        Transfer(
            passport_id=car.id,
            garage_id=car.garage_id,
            kind="owner",
            state="accepted",
            from_customer_id=seller.id,
            to_customer_id=buyer.id,
            to_email=buyer.email,
            created_by="test",
            decided_at=utcnow(),
        )
    )
    car.owner = buyer
    s.commit()
    with acting_as("garage-jansen") as acting:
        remark = {**form.content["results"][0], "remark": "na de verkoop"}
        _edit(s, acting, form, {"results": [remark]}, today=DAY)
        _save(s, acting, form, today=DAY)  # version 2: after the sale
    assert form.version == 2
    assert inspections.form_from_link(s, raw) == (form, 1)


def test_issue13_opt_out_link_acts_on_its_own_row_for_a_year(acting_as, world):
    from admin_app.services import proposals

    s = world.session
    proposal = s.scalars(select(ContactProposal).limit(1)).one()
    with acting_as(None), unit_of_work(s):
        queue_mail(
            s,
            recipient=proposal.customer.email,
            kind="invitation",
            subject="Uitnodiging",
            params={"proposal_id": proposal.id},
        )
    raw = mail_text(s).split("/opt-out/")[1].split()[0]
    token = s.scalars(select(AccessToken).order_by(AccessToken.id.desc())).first()
    assert timedelta(days=364) < token.expires_at - utcnow() <= timedelta(days=365)
    assert token.subject_id == proposal.customer_id
    with unit_of_work(s):
        assert proposals.opt_out(s, raw).id == proposal.customer_id
    others = s.scalars(
        select(Customer).where(
            Customer.email == proposal.customer.email, Customer.id != proposal.customer_id
        )
    ).all()
    assert not any(c.never_contact for c in others)
    token.expires_at = utcnow() - timedelta(seconds=1)
    s.commit()
    with pytest.raises(NotFound):
        proposals.customer_for_opt_out(s, raw)


def test_issue13_accept_page_shows_the_transfer_only_to_its_recipient(app, world, login_as):
    mail = world.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "transfer_notice",
            OutboxMessage.recipient == "eigenaar@example.nl",
        )
    ).one()
    link = re.search(r"/transfer/accept/\S+", mail_text(world.session, mail)).group(0)
    # The cars waiting for him (a stranger's own waiting transfers are on his home page,
    # where the refused link lands him: issue 15).
    pending = world.session.scalars(
        select(Passport)
        .join(Transfer, Transfer.passport_id == Passport.id)
        .where(Transfer.state == "pending", Transfer.to_email == "eigenaar@example.nl")
    ).all()
    plates = [p.plate_display for p in pending]
    assert plates
    for stranger in ("garage-devries", "support", "fleet-bakker"):
        page = login_as(stranger).get(link, follow_redirects=True).get_data(as_text=True)
        assert "Log in als eigenaar@example.nl" in page
        assert "Auto accepteren" not in page and not any(plate in page for plate in plates)
    page = login_as("eigenaar").get(link).get_data(as_text=True)
    assert any(plate in page for plate in plates)


def test_issue13_activation_page_asks_a_known_owner_for_his_own_password(acting_as, world, browser):
    s = world.session
    with acting_as("garage-devries") as acting:
        passport = new_passport(s, acting, VICTIM)
        with unit_of_work(s):
            rules.send_passport(s, passport.id, actor=acting.actor)
    link = re.search(r"/activate/\S+", mail_text(s)).group(0)
    client = browser()
    client.fetch_csrf(link)
    for posted in ({}, {"password": "iets-anders-1", "conf_password": "iets-anders-1"}):
        refused = client.post(link, posted)
        assert refused.status_code == 200
        assert "niet het wachtwoord" in refused.get_data(as_text=True)
    assert client.get("/my-vehicles/list/").status_code != 200
    done = client.post(link, {"password": "demo"})
    assert done.status_code == 302
    assert client.get("/my-vehicles/list/").status_code == 200


def test_issue13_a_new_car_on_a_claimed_profile_shows_nobody_until_claimed(acting_as, world):
    """The attack after the fix: a driver profile he claimed, pointed by the garage at
    another address, then a new passport for that address: it is nobody's car yet."""
    s = world.session
    victim = victim_login(s)
    fleet_car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    with acting_as("fleet-bakker") as acting, unit_of_work(s):
        transfers.start_transfer(
            s, fleet_car.id, actor=acting.actor, person=person(ATTACKER), kind="driver"
        )
    raw = re.search(r"/access/(\S+)", mail_text(s)).group(1)
    with acting_as(None), unit_of_work(s):
        attacker = rules.grant_driver_access(s, raw, password="aanvaller-1", confirm="aanvaller-1")
    driver = s.get(Passport, fleet_car.id).driver
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            rules.update_customer(s, driver.id, {"email": victim.email}, actor=acting.actor)
        typed = new_passport(s, acting, victim.email, plate="ZY-51-87")
    assert typed.owner_id == driver.id  # the profile the attacker claimed as driver
    for login in (victim.username, attacker.username):
        with acting_as(login):
            seen = {p.id for p in s.scalars(select(Passport)).unique()}
        assert typed.id not in seen
    with acting_as(attacker.username):
        assert fleet_car.id in {p.id for p in s.scalars(select(Passport)).unique()}


def test_issue13_a_mail_queued_before_the_address_changed_is_not_sent(world, acting_as):
    """Its link would be void, and its text would tell a stranger the owner's name, the
    plate and the garage: the worker marks it failed instead."""
    from admin_app.services.mails import MailObsolete, render_mail

    s = world.session
    with acting_as("garage-devries") as acting:
        passport = new_passport(s, acting, ATTACKER)
        with unit_of_work(s):
            rules.send_passport(s, passport.id, actor=acting.actor)
        mail = last_mail(s)
        with unit_of_work(s):
            rules.update_customer(
                s, passport.owner_id, {"email": "nieuw@example.nl"}, actor=acting.actor
            )
        with pytest.raises(MailObsolete):
            render_mail(s, mail)
