"""R-SEC-3: forgotten passwords are reset through a single-use link valid for one hour."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, InvalidInput, NotFound
from admin_app.models import AccessToken, OutboxMessage
from admin_app.models.base import utcnow
from admin_app.services import accounts
from tests import factories
from tests.conftest import DB_KIND
from tests.mails import mail_text

LINK = re.compile(r"/reset-password/(\S+)")


def _request_link(app, session, identifier):
    with app.test_request_context("/"), unit_of_work(session):
        accounts.request_password_reset(session, identifier)
    mail = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return mail, LINK.search(mail_text(session, mail)).group(1)


def test_r_sec_3_reset_link_sets_a_new_password_once(app, world):
    session = world.session
    mail, token = _request_link(app, session, "Garage-Jansen")
    assert mail.recipient == "balie@autobedrijf-jansen.nl" and mail.kind == "password_reset"
    with app.test_request_context("/"), unit_of_work(session):
        user = accounts.reset_password(session, token, "nieuw-wachtwoord", "nieuw-wachtwoord")
    assert check_password_hash(user.password, "nieuw-wachtwoord")
    with app.test_request_context("/"), pytest.raises(InvalidInput, match="al gebruikt"):
        accounts.reset_password(session, token, "nog-een-keer!", "nog-een-keer!")


def test_r_sec_3_link_expires_after_one_hour(app, world):
    session = world.session
    _, token = _request_link(app, session, "support@autopaspoort.example")
    stored = session.scalars(select(AccessToken).order_by(AccessToken.id.desc())).first()
    assert timedelta(minutes=59) < stored.expires_at - utcnow() <= timedelta(hours=1)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with app.test_request_context("/"), pytest.raises(InvalidInput, match="verlopen"):
        accounts.reset_password(session, token, "nieuw-wachtwoord", "nieuw-wachtwoord")


def test_r_sec_3_a_newer_mailed_link_invalidates_the_earlier_one(app, world):
    session = world.session
    _, first = _request_link(app, session, "eigenaar")
    with app.test_request_context("/"), unit_of_work(session):
        accounts.mail_password_link(session, world.user("eigenaar"), welcome=True)
    second = LINK.search(mail_text(session)).group(1)
    with app.test_request_context("/"), pytest.raises(InvalidInput):
        accounts.reset_password(session, first, "nieuw-wachtwoord", "nieuw-wachtwoord")
    with app.test_request_context("/"), unit_of_work(session):
        accounts.reset_password(session, second, "nieuw-wachtwoord", "nieuw-wachtwoord")


def test_issue13_at_most_one_reset_mail_per_account_per_15_minutes(app, world):
    session = world.session

    def reset_mails():
        return session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "password_reset",
                OutboxMessage.recipient == "support@autopaspoort.example",
            )
        ).all()

    for _ in range(5):
        with app.test_request_context("/"), unit_of_work(session):
            accounts.request_password_reset(session, "support")
    assert len(reset_mails()) == 1
    later = utcnow() + accounts.RESET_MAIL_INTERVAL + timedelta(seconds=1)
    with app.test_request_context("/"), unit_of_work(session):
        assert accounts.request_password_reset(session, "SUPPORT", now=later)
    assert len(reset_mails()) == 2


def test_r_sec_3_forged_link_and_weak_password_are_refused(app, world):
    session = world.session
    _, token = _request_link(app, session, "fleet-bakker")
    with app.test_request_context("/"):
        with pytest.raises(InvalidInput, match="niet geldig"):
            accounts.reset_password(
                session, "verzonnen-token", "nieuw-wachtwoord", "nieuw-wachtwoord"
            )
        with pytest.raises(InvalidInput, match="minstens 8"):
            accounts.reset_password(session, token, "kort", "kort")
        with pytest.raises(InvalidInput, match="niet overeen"):
            accounts.reset_password(session, token, "nieuw-wachtwoord", "ander-wachtwoord")


def test_r_sec_3_unknown_user_gets_no_mail_and_no_hint(app, empty_world):
    session = empty_world.session
    before = session.scalars(select(OutboxMessage)).all()
    with app.test_request_context("/"), unit_of_work(session):
        accounts.request_password_reset(session, "niemand@example.nl")
    assert session.scalars(select(OutboxMessage)).all() == before


def test_the_stored_token_is_a_hash_not_the_link(app, world):
    session = world.session
    _, token = _request_link(app, session, "admin")
    stored = session.scalars(select(AccessToken).order_by(AccessToken.id.desc())).first()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_garage_adds_a_colleague_who_chooses_his_own_password(app, empty_world):
    session = empty_world.session
    jansen = factories.garage(session, email="werkplaats@autobedrijf-jansen.nl")
    with app.test_request_context("/"), unit_of_work(session):
        user = accounts.add_colleague(
            session,
            garage_id=jansen.id,
            username="werkplaats-2",
            email="Monteur@Autobedrijf-Jansen.nl",
            first_name="Mo",
            last_name="Nteur",
        )
    assert user.password is None and user.garage_id == jansen.id
    assert [r.name for r in user.roles] == ["Garage"]
    assert user.email == "Monteur@autobedrijf-jansen.nl"
    mail = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == user.email and "/reset-password/" in mail_text(session, mail)


def test_garage_cannot_disable_another_garages_user_or_itself(app, empty_world):
    session = empty_world.session
    jansen = factories.garage(session)
    me = factories.garage_login(session, jansen)
    devries_staff = factories.garage_login(session, factories.garage(session))
    admin = factories.admin_login(session)
    with app.test_request_context("/"):
        with pytest.raises(NotFound):
            accounts.set_colleague_active(
                session,
                garage_id=jansen.id,
                user_id=devries_staff.id,
                active=False,
                actor_id=me.id,
            )
        with pytest.raises(NotFound):
            accounts.set_colleague_active(
                session,
                garage_id=jansen.id,
                user_id=admin.id,
                active=False,
                actor_id=me.id,
            )
        with pytest.raises(Conflict):
            accounts.set_colleague_active(
                session, garage_id=jansen.id, user_id=me.id, active=False, actor_id=me.id
            )


def test_issue13_no_login_may_be_named_after_another_address(app, empty_world):
    """A colleague named VICTIM@… kept the victim from ever activating his car."""
    world = empty_world
    jansen = factories.garage(world.session).id
    with app.test_request_context("/"), pytest.raises(InvalidInput, match="eigen e-mailadres"):
        accounts.add_colleague(
            world.session,
            garage_id=jansen,
            username="Slachtoffer@Example.nl",
            email="balie2@autobedrijf-jansen.nl",
            first_name="B",
            last_name="Alie",
        )


@pytest.mark.skipif(DB_KIND != "postgresql", reason="row locks: PostgreSQL")
def test_issue17_two_workers_asking_at_once_send_one_reset_mail(app, engine, world):
    """Issue 17 (never twice): two reset jobs for one account run side by side; the second
    waits for the first's mail and then sends none."""
    first, second = Session(bind=engine), Session(bind=engine)
    answers = {}

    def other_worker():
        with app.test_request_context("/"), unit_of_work(second):
            answers["second"] = accounts.request_password_reset(second, "support")

    with app.test_request_context("/"):
        with unit_of_work(first):
            answers["first"] = accounts.request_password_reset(first, "support")
            thread = threading.Thread(target=other_worker)
            thread.start()
            thread.join(1.0)
            assert thread.is_alive()  # waiting on the account until the first commits
        thread.join(10)
    first.close(), second.close()
    assert answers == {"first": True, "second": False}
    mails = world.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "password_reset",
            OutboxMessage.recipient == "support@autopaspoort.example",
        )
    ).all()
    assert len(mails) == 1
