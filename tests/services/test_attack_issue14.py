"""Issue 14 attacked through its services, as a hostile garage would (R-PP-3, R-SEC-1)."""

from __future__ import annotations

import pytest

from admin_app.db import unit_of_work
from admin_app.domain.errors import InvalidInput
from admin_app.models import ConsoleUser
from admin_app.services.garages import change_garage_email


@pytest.mark.parametrize("username", ["gedeeld@example.nl", "Gedeeld@Example.NL"])
def test_issue14_attack_garage_email_never_becomes_another_logins_user_name(
    acting_as, world, username
):
    """R-PP-3, one address is one login: the garage's own login takes the new garage
    e-mail as its user name, so an address that is another login's user name is refused
    like one that is its e-mail. A user name keeps the address it was made with when the
    login's e-mail changes later; the change took it (a 500 on the unique user name, or
    — differing in case — two logins of one name that FAB then refuses both to log in)."""
    s = world.session
    as_jansen = acting_as("garage-jansen")  # by user name, before it changes below
    jansen = world.garage("Autobedrijf Jansen")
    own = world.user("garage-jansen")
    # The garage's own login: its e-mail and login name are the garage e-mail (the seeds').
    own.username = own.email = jansen.email
    other = world.user("support")
    other.username = username  # made with this address; its e-mail changed since
    s.commit()
    with as_jansen as acting:
        with pytest.raises(InvalidInput) as refused, unit_of_work(s):
            change_garage_email(s, jansen.id, "gedeeld@example.nl", actor=acting.actor)
        assert list(refused.value.errors) == ["email"]
    s.expire_all()
    assert s.get(ConsoleUser, own.id).username == jansen.email
    assert s.get(ConsoleUser, other.id).username == username


def test_issue14_attack_a_car_whose_transfer_waits_is_not_moved(acting_as, world):
    """R-PP-8, R-TR-2, R-SEC-1: a waiting transfer belongs to the garage it was made at and
    restores that garage's customer as the owner. Support moved such a car anyway: the new
    garage could neither see nor cancel the transfer (the car stuck "waiting" there), and
    its expiry after 14 days made the old garage's customer the owner of the new garage's
    passport. The move is refused, with its reason on the profile, until the transfer is
    cancelled or accepted."""
    from admin_app.domain.errors import Conflict
    from admin_app.models import Passport
    from admin_app.services import passports as rules
    from admin_app.services import transfers
    from admin_app.services.passports import PersonDetails

    s = world.session
    jansen, devries = world.garage("Autobedrijf Jansen"), world.garage("Garage De Vries")
    car = world.passports(garage_id=jansen.id, stock_car=True, state="activated")[0]
    known_owner = PersonDetails.from_mapping(
        {"email": "eigenaar@example.nl", "last_name": "Eigenaar"}
    )
    with acting_as("garage-jansen") as acting, unit_of_work(s):
        started = transfers.start_transfer(s, car.id, actor=acting.actor, person=known_owner)
        waiting = started.transfer
    assert waiting.state == "pending"
    with acting_as("support") as acting:
        refusal = rules.allowed_actions(s, acting.actor, s.get(Passport, car.id))["move"]
        assert refusal is not None and refusal.for_this_passport
        with pytest.raises(Conflict), unit_of_work(s):
            rules.move_passport(s, car.id, devries.id, actor=acting.actor)
    s.expire_all()
    assert s.get(Passport, car.id).garage_id == jansen.id
    # Once the transfer is cancelled, the car moves with its owner.
    with acting_as("support") as acting, unit_of_work(s):
        transfers.cancel_transfer(s, waiting.id, actor=acting.actor)
    with acting_as("support") as acting, unit_of_work(s):
        rules.move_passport(s, car.id, devries.id, actor=acting.actor)
    s.expire_all()
    moved = s.get(Passport, car.id)
    assert moved.garage_id == devries.id and moved.owner.garage_id == devries.id


@pytest.mark.parametrize("username", ["gedeeld@example.nl", "Gedeeld@Example.NL"])
def test_issue14_attack_fleet_email_never_becomes_another_logins_user_name(
    acting_as, world, username
):
    """R-FL-2, as R-PP-3 above: the fleet account's login takes its new e-mail as its user
    name, so the garage may not give it an address that is another login's user name
    (a 500 on the unique name, or two logins of one name that cannot log in)."""
    from admin_app.domain.errors import DomainError
    from admin_app.models import FleetAccount
    from admin_app.services.fleets import change_fleet_email

    s = world.session
    fleet_id = world.user("fleet-bakker").fleet_account_id
    garage = s.get(FleetAccount, fleet_id).garage_id
    staff = "garage-jansen" if garage == world.garage("Autobedrijf Jansen").id else "garage-devries"
    other = world.user("support")
    other.username = username
    s.commit()
    with acting_as(staff) as acting:
        with pytest.raises(DomainError) as refused, unit_of_work(s):
            change_fleet_email(s, fleet_id, "gedeeld@example.nl", actor=acting.actor)
        assert list(refused.value.errors) == ["email"]
    s.expire_all()
    assert s.get(ConsoleUser, other.id).username == username
    assert s.get(ConsoleUser, world.user("fleet-bakker").id).email != "gedeeld@example.nl"


def _own_login(world):
    """Jansen's own login: the staff login whose e-mail is the garage e-mail (R-PP-3)."""
    from admin_app.services.accounts import create_login

    jansen = world.garage("Autobedrijf Jansen")
    own = create_login(
        world.session,
        username=jansen.email,
        email=jansen.email,
        first_name="Werkplaats",
        last_name="Jansen",
        role_name="Garage",
        garage_id=jansen.id,
    )
    world.session.commit()
    return own


def test_issue14_attack_a_colleague_cannot_move_the_garages_own_login(acting_as, world):
    """R-PP-3, R-SEC-1: the garage e-mail is the garage's own login's address, and that
    login moves along when it changes. A colleague (garage-jansen, with his own address)
    could move it to an address of his and then reset its password: another person's
    login taken over. Only the own login itself (or Admin) changes the garage e-mail
    while there is one; nothing changes and nothing is mailed when a colleague tries."""
    from admin_app.domain.errors import Forbidden
    from admin_app.models import OutboxMessage

    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    old = jansen.email
    own = _own_login(world)
    with acting_as("garage-jansen") as acting:
        with pytest.raises(Forbidden), unit_of_work(s):
            change_garage_email(s, jansen.id, "mijn.adres@example.nl", actor=acting.actor)
    s.expire_all()
    assert (own.email, own.username, world.garage("Autobedrijf Jansen").email) == (old, old, old)
    assert s.query(OutboxMessage).filter_by(kind="garage_email_changed").count() == 0
    with acting_as(own.username) as acting, unit_of_work(s):
        change_garage_email(s, jansen.id, "voorraad@autobedrijf-jansen.nl", actor=acting.actor)
    s.expire_all()
    assert own.email == "voorraad@autobedrijf-jansen.nl"
    with acting_as("admin") as acting, unit_of_work(s):
        change_garage_email(s, jansen.id, "werkplaats2@autobedrijf-jansen.nl", actor=acting.actor)
    s.expire_all()
    assert own.email == "werkplaats2@autobedrijf-jansen.nl"
