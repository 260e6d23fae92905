"""R-SEC-2: every change by a person or a job is logged in the same transaction."""

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.models import AuditLog, ConsoleUser, Customer, Passport
from admin_app.services.audit import Actor, record_bulk
from tests import factories


def _entries(session, table, record_id):
    return session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == table, AuditLog.record_id == record_id)
        .order_by(AuditLog.id)
    ).all()


def test_r_sec_2_update_records_actor_fields_old_and_new(empty_world):
    session = empty_world.session
    passport = factories.passport(session, factories.garage(session))
    old_brand = passport.brand
    with unit_of_work(session, Actor(7, "garage-jansen")):
        passport.brand = "Lada"
    entry = _entries(session, "passport", passport.id)[-1]
    assert entry.action == "update"
    assert (entry.actor_id, entry.actor_name) == (7, "garage-jansen")
    assert entry.changes == {"brand": [old_brand, "Lada"]}
    assert entry.garage_id == passport.garage_id and entry.passport_id == passport.id
    assert entry.at is not None


def test_r_sec_2_insert_and_delete_are_logged(empty_world):
    session = empty_world.session
    garage = factories.garage(session)
    with unit_of_work(session, Actor.job("test")):
        customer = Customer(garage_id=garage.id, last_name="Tijdelijk", email="t@example.nl")
        session.add(customer)
    customer_id = customer.id
    with unit_of_work(session, Actor.job("test")):
        session.delete(customer)
    actions = [e.action for e in _entries(session, "customer", customer_id)]
    assert actions == ["insert", "delete"]
    assert _entries(session, "customer", customer_id)[0].actor_name == "job:test"


def test_r_sec_2_log_is_in_the_same_transaction_as_the_change(empty_world):
    session = empty_world.session
    passport = factories.passport(session, factories.garage(session))
    before = session.scalar(select(func.count()).select_from(AuditLog))
    with pytest.raises(RuntimeError):
        with unit_of_work(session, Actor.job("test")):
            passport.brand = "Trabant"
            session.flush()
            raise RuntimeError("boom")
    assert session.scalar(select(func.count()).select_from(AuditLog)) == before
    assert session.get(Passport, passport.id).brand != "Trabant"


def test_r_sec_2_passwords_and_tokens_never_appear(empty_world):
    session = empty_world.session
    user = factories.garage_login(session, factories.garage(session), password="demo")
    with unit_of_work(session, Actor.job("test")):
        user.password = "scrypt:32768:8:1$secret$hash"
    entries = _entries(session, "user", user.id)
    assert entries, "the password change itself is recorded"
    assert entries[-1].changes["password"] == ["***", "***"]
    all_text = " ".join(str(e.changes) for e in session.scalars(select(AuditLog)))
    assert "scrypt:" not in all_text and "pbkdf2:" not in all_text
    assert not session.scalars(select(AuditLog).where(AuditLog.table_name == "access_token")).all()


def test_r_sec_2_record_bulk_logs_changes_made_without_the_orm(empty_world):
    session = empty_world.session
    garage = factories.garage(session)
    passports = [factories.passport(session, garage) for _ in range(3)]
    with unit_of_work(session, Actor.job("importer")):
        written = record_bulk(
            session,
            Actor.job("importer"),
            "passport",
            [
                ("update", p.id, {"brand": (p.brand, "Volvo"), "token": ("a", "b")})
                for p in passports
            ],
            garage_id=passports[0].garage_id,
        )
    assert written == 3
    entry = _entries(session, "passport", passports[0].id)[-1]
    assert entry.actor_name == "job:importer"
    assert entry.changes["brand"][1] == "Volvo"
    assert entry.changes["token"] == ["***", "***"]
    assert entry.passport_id == passports[0].id


def test_r_sec_2_demo_load_by_a_job_is_audited(world):
    session = world.session
    assert (
        session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.actor_name == "job:demo-data")
        )
        > 100
    )
    assert session.scalar(select(func.count()).select_from(ConsoleUser)) == 7
