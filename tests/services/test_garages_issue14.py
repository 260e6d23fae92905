"""Issue 14, R-PP-3: the garage changes its garage e-mail — checked and normalized like
every address, refused when another garage or login has it, audited, mailed to the old
and the new address; cars created before keep their stock-car flag."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Forbidden, InvalidInput
from admin_app.models import AuditLog, ConsoleUser, OutboxMessage, Passport
from admin_app.services.garages import GARAGE_EMAIL_CHANGED, change_garage_email
from admin_app.services.passports import PersonDetails, create_passport
from tests.mails import mail_text

NEW = "voorraad@autobedrijf-jansen.nl"


def change(world, acting, email):
    jansen = world.garage("Autobedrijf Jansen")
    with unit_of_work(world.session):
        return change_garage_email(world.session, jansen.id, email, actor=acting.actor)


def stock_car(session, acting, plate, email):
    with unit_of_work(session):
        return create_passport(
            session,
            actor=acting.actor,
            plate=plate,
            person=PersonDetails.from_mapping({"email": email, "last_name": "Voorraad"}),
        )


def test_issue14_r_pp_3_garage_changes_its_email_cars_keep_their_flag(acting_as, world):
    """R-PP-3: the new address makes stock cars; one made before stays a stock car."""
    s = world.session
    with acting_as("garage-jansen") as acting:
        old = world.garage("Autobedrijf Jansen").email
        before = stock_car(s, acting, "12-ABC-3", old)
        assert before.stock_car
        garage = change(world, acting, "  Voorraad@AUTOBEDRIJF-Jansen.NL ")
        assert garage.email == "Voorraad@autobedrijf-jansen.nl"  # trimmed, domain lowered
        s.expire_all()
        assert s.get(Passport, before.id).stock_car
        assert stock_car(s, acting, "34-XYZ-5", NEW).stock_car
        assert not stock_car(s, acting, "56-XYZ-7", old).stock_car


def test_issue14_r_pp_3_change_is_audited_and_mailed_to_old_and_new(acting_as, world):
    """R-SEC-2: an audit row with old → new; both addresses get the mail, which names who."""
    s = world.session
    with acting_as("garage-jansen") as acting:
        jansen = world.garage("Autobedrijf Jansen")
        old = jansen.email
        change(world, acting, NEW)
        audit = s.scalars(
            select(AuditLog)
            .where(AuditLog.table_name == "garage", AuditLog.record_id == jansen.id)
            .order_by(AuditLog.id.desc())
        ).first()
        assert audit.changes["email"] == [old, NEW] and audit.actor_name == "garage-jansen"
        mails = s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == GARAGE_EMAIL_CHANGED)
        ).all()
        assert sorted(m.recipient for m in mails) == sorted([old, NEW])
        text = mail_text(s, mails[0])
        assert old in text and NEW in text and "Gert Jansen" in text
        assert "voorraadauto" in text  # Dutch, and it says what the change means


def test_issue14_r_pp_3_the_garage_login_moves_along_colleagues_stay(acting_as, world):
    """The garage's own login (its address is the garage e-mail) follows the garage
    e-mail, user name included; a colleague with his own address keeps it. (The own login
    changes it itself: a colleague may not move another person's login, see
    test_issue14_attack_a_colleague_cannot_move_the_garages_own_login.)"""
    from admin_app.services.accounts import find_role

    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    shared = ConsoleUser(
        username=jansen.email,
        email=jansen.email,
        first_name="Werkplaats",
        last_name="Jansen",
        active=True,
        garage_id=jansen.id,
    )
    s.add(shared)
    shared.roles = [find_role(s, "Garage")]
    s.commit()
    with acting_as(jansen.email) as acting:
        change(world, acting, NEW)
        s.expire_all()
        assert (shared.email, shared.username) == (NEW, NEW)
        assert world.user("garage-jansen").email == "balie@autobedrijf-jansen.nl"


@pytest.mark.parametrize(
    "email, reason",
    [
        ("info@garagedevries.nl", "Een andere garage"),
        ("INFO@GarageDeVries.nl", "Een andere garage"),
        ("eigenaar@example.nl", "Een login"),
        ("balie@garagedevries.nl", "Een login"),
        ("balie@autobedrijf-jansen.nl", "Een login"),  # a colleague's own address
        ("werkplaats@", "geen geldig e-mailadres"),
        ("", "Vul een e-mailadres in"),
    ],
)
def test_issue14_r_pp_3_refuses_an_address_in_use_or_invalid(acting_as, world, email, reason):
    """R-PP-5 and one address per account: refused with the reason, nothing changed."""
    s = world.session
    with acting_as("garage-jansen") as acting:
        old = world.garage("Autobedrijf Jansen").email
        with pytest.raises(InvalidInput) as refused:
            change(world, acting, email)
        assert reason in str(refused.value.errors["email"][0])
        s.expire_all()
        assert world.garage("Autobedrijf Jansen").email == old
        assert not s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == GARAGE_EMAIL_CHANGED)
        ).all()


def test_issue14_r_pp_3_only_its_staff_or_admin_change_it(acting_as, world):
    with acting_as("support") as acting, pytest.raises(Forbidden):
        change(world, acting, NEW)
    with acting_as("admin") as acting:
        assert change(world, acting, NEW).email == NEW
