"""Issue 14 attacked through its services, as a hostile garage would (R-PP-3, R-SEC-1)."""

from __future__ import annotations

import pytest

from admin_app.models import ConsoleUser
from admin_app.services.errors import InvalidInput
from admin_app.services.garages import change_garage_email
from admin_app.services.uow import unit_of_work


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
