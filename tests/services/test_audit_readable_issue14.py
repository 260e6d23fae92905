"""Issue 14, R-SEC-2: the audit log as a person reads it — labels as on the screens, names
for ids, local times, yes/no, translated states, bookkeeping left out — rendered by a
service, without HTTP; the stored log stays as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, inspect, select

from admin_app.db import unit_of_work
from admin_app.models import AuditLog, Customer
from admin_app.services.audit import (
    AUDITED,
    BOOKKEEPING,
    SENTENCES,
    Actor,
    describe_entries,
    field_labels,
    record_bulk,
)


def _last(session, table, record_id) -> AuditLog:
    return session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == table, AuditLog.record_id == record_id)
        .order_by(AuditLog.id.desc())
    ).first()


def _owner_change(world):
    """A passport handed from its owner to another customer of the garage."""
    session = world.session
    passport = world.passports(state="activated")[0]
    other = session.scalars(
        select(Customer).where(
            Customer.garage_id == passport.garage_id, Customer.id != passport.owner_id
        )
    ).first()
    old_owner = passport.owner.full_name
    gert = world.user("garage-jansen")
    with unit_of_work(session, Actor.of_user(gert)):
        passport.owner_id = other.id
        passport.stock_car = False
        passport.apk_expiry = dt.date(2027, 3, 31)
        passport.archived_at = dt.datetime(2026, 12, 1, 23, 46, tzinfo=dt.UTC)
        passport.state = "archived"
    return passport, old_owner, other.full_name


def test_issue14_an_update_reads_as_names_labels_and_local_times(app, world):
    """R-SEC-2: "Eigenaar: Jan de Vries → Tom Tester", not "owner_id: 1 → 124"."""
    passport, old_owner, new_owner = _owner_change(world)
    entry = _last(world.session, "passport", passport.id)
    with app.app_context():
        (described,) = describe_entries(world.session, [entry], "nl")
    text = described.changes_text
    assert f"Eigenaar: {old_owner} → {new_owner}" in text
    assert "APK-vervaldatum: " in text and "→ 31-03-2027" in text
    assert "02-12-2026 00:46" in text  # Amsterdam, past midnight
    assert "Gearchiveerd" in text
    assert described.what == "AutoPaspoort gewijzigd"
    assert described.who == "Gert Jansen"
    assert described.subject == passport.plate_display
    for raw in ("owner_id", "stock_car", "archived", "2026-12-01T23:46", "True", "False"):
        assert raw not in text
    # The stored entry is unchanged: the raw change is still there.
    assert entry.changes["owner_id"][1] == passport.owner_id


def test_issue14_english_readers_get_english(app, world):
    passport, old_owner, new_owner = _owner_change(world)
    entry = _last(world.session, "passport", passport.id)
    with app.app_context():
        (described,) = describe_entries(world.session, [entry], "en")
    assert f"Owner: {old_owner} → {new_owner}" in described.changes_text
    assert described.what == "Passport changed"


def test_issue14_a_creation_leaves_bookkeeping_out(app, world):
    """R-SEC-2: ids, created_at and the like are not shown; booleans read yes/no."""
    session = world.session
    garage = world.garage("Autobedrijf Jansen")
    with unit_of_work(session, Actor.job("test")):
        customer = Customer(
            garage_id=garage.id,
            first_name="Tom",
            last_name="Tester",
            email="tom@example.nl",
            never_contact=False,
        )
        session.add(customer)
    entry = _last(session, "customer", customer.id)
    assert "created_at" in entry.changes and "id" in entry.changes
    with app.app_context():
        (described,) = describe_entries(session, [entry], "nl")
    assert described.what == "Klant aangemaakt"
    assert described.who == "Systeem"
    assert described.subject == "Tom Tester"
    text = described.changes_text
    assert "Voornaam: Tom" in text and f"Garage: {garage.name}" in text
    assert "—" not in text  # a creation lists the values it has, not "— → value"
    assert "Aangemaakt" not in text and str(customer.id) not in text


def test_issue14_a_bulk_write_reads_the_same(app, world):
    """The importer logs booleans as 0/1 and times as text (`stock_car: — → 0`)."""
    session = world.session
    passport = world.passports()[0]
    record_bulk(
        session,
        Actor.job("import"),
        "passport",
        [("update", passport.id, {"stock_car": (None, 0), "next_service": (None, "2027-01-02")})],
    )
    entry = _last(session, "passport", passport.id)
    with app.app_context():
        (described,) = describe_entries(session, [entry], "nl")
    assert "Volgende onderhoudsbeurt: — → 02-01-2027" in described.changes_text
    assert "Voorraadauto: — → Nee" in described.changes_text
    session.rollback()


def test_issue14_names_are_looked_up_once_per_record_type(app, world, engine):
    """R-SEC-2: a page of 100 entries costs one query per referenced table, not per row."""
    session = world.session
    entries = session.scalars(select(AuditLog).order_by(AuditLog.id).limit(100)).all()
    assert len(entries) == 100
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with app.app_context():
            describe_entries(session, entries, "nl")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert 0 < len(statements) <= 5  # garage, customer, passport, fleet account, login


@pytest.mark.parametrize("model, table", list(AUDITED.items()), ids=list(AUDITED.values()))
def test_issue14_every_logged_field_has_a_screen_label(app, model, table):
    """A new column must get a translated label (or be named bookkeeping): users see no
    field names. With the app built, so FAB's own English names (it fills the views'
    label maps in place) would show up here."""
    from admin_app.services.audit import NEVER_LOGGED, NOT_WORTH_LOGGING

    labels = field_labels()[table]
    shown = [
        column.key
        for column in inspect(model).column_attrs
        if column.key not in BOOKKEEPING | NEVER_LOGGED | NOT_WORTH_LOGGING
        and "token" not in column.key
    ]
    # Ours are lazy translations; a plain str is a name FAB made up ("Never Contact").
    assert [key for key in shown if key not in labels or isinstance(labels[key], str)] == []
    assert table in SENTENCES


def test_issue14_a_name_the_reader_may_not_see_stays_hidden(world, acting_as):
    """R-SEC-1: names come through the reader's scope: another garage's car is not named."""
    session = world.session
    theirs = world.passports(garage_id=world.garage("Garage De Vries").id)[0]
    plate = theirs.plate_display
    entry = AuditLog(
        actor_name="x",
        action="update",
        table_name="fleet_account",
        record_id=None,
        changes={"manager_passport_id": [None, theirs.id]},
    )
    with acting_as("garage-jansen"):
        (described,) = describe_entries(session, [entry], "nl")
    assert plate not in described.changes_text
    assert "(onbekend)" in described.changes_text


def test_issue14_a_job_reads_as_the_system(app, world):
    """A transfer started by a job says "Door: Systeem", not "job:demo-data"."""
    entry = AuditLog(
        actor_name="job:demo-data",
        action="insert",
        table_name="transfer",
        changes={"created_by": [None, "job:demo-data"], "kind": [None, "owner"]},
    )
    with app.app_context():
        (described,) = describe_entries(world.session, [entry], "nl")
    assert described.who == "Systeem" and described.what == "Overdracht gestart"
    assert described.changes_text == "Soort: Nieuwe eigenaar; Door: Systeem"
