"""Issue 20, the importer against its honest floor: on PostgreSQL a chunk draws the ids of
the customers and passports it creates from their sequences into its plan, and does not
look up the rows it has just inserted (that cost ~2 statement-seconds of a 100,000-row
list). The results stay those of the look-ups: each row's passport, each passport's owner,
one audit row per new record (R-BJ-6, R-SEC-2)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from admin_app.db import unit_of_work
from admin_app.models import AuditLog, BatchRow, Customer, Passport
from admin_app.services import batch_jobs
from tests.conftest import DB_KIND
from tests.services.test_batch_jobs import run, upload

pytestmark = pytest.mark.skipif(DB_KIND != "postgresql", reason="sequences: PostgreSQL")


def statements_of(action) -> list[str]:
    """The SQL that ``action`` sends, from every connection (chunks run side by side)."""
    sent: list[str] = []

    def seen(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    return sent


def columns_inserted_into(table: str, sent: list[str]) -> list[list[str]]:
    found = []
    for statement in sent:
        match = re.match(rf"\s*INSERT INTO {table} \(([^)]*)\)", statement)
        if match:
            found.append([name.strip() for name in match.group(1).split(",")])
    return found


def test_issue20_a_chunk_inserts_its_new_rows_with_drawn_ids_and_looks_none_up(acting_as, world):
    """Issue 20 (R-BJ-6, R-SEC-2): the customer and passport inserts carry the ids the plan
    drew; no statement fills the plan's passport ids from the passports afterwards; and the
    rows, owners and audit rows are those the look-ups gave."""
    s = world.session
    plates = [f"GZ{number:02d}XT" for number in range(25)]  # side-code 4
    header = "kenteken;email;voornaam;achternaam\n"
    # One e-mail on many rows (a new customer's later rows find it), and one per row.
    lines = [f"{plate};wagenpark@lease.nl;;Lease BV" for plate in plates[:15]]
    lines += [f"{plate};eigenaar{n}@voorbeeld.nl;;Jansen" for n, plate in enumerate(plates[15:])]
    data = (header + "\n".join(lines) + "\n").encode()
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "ids.csv", data=data)
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    sent = statements_of(lambda: run(s, job.id))

    assert all("id" in names for names in columns_inserted_into("passport", sent))
    assert all("id" in names for names in columns_inserted_into("customer", sent))
    assert columns_inserted_into("passport", sent) and columns_inserted_into("customer", sent)
    assert not [q for q in sent if re.match(r"\s*UPDATE chunk_plan SET passport_id", q)]

    passports = s.execute(
        select(BatchRow.passport_id, Passport.id, Passport.owner_id, Customer.email)
        .join(Passport, Passport.plate == BatchRow.plate)
        .join(Customer, Customer.id == Passport.owner_id)
        .where(BatchRow.batch_job_id == job.id)
    ).all()
    assert len(passports) == 25
    assert all(row_passport == passport for row_passport, passport, _, _ in passports)
    lease = {owner for _, _, owner, email in passports if email == "wagenpark@lease.nl"}
    assert len(lease) == 1
    created = {passport for _, passport, _, _ in passports}
    owners = {owner for _, _, owner, _ in passports}
    audited = s.execute(
        select(AuditLog.table_name, AuditLog.record_id, func.count())
        .where(AuditLog.action == "insert", AuditLog.actor_name.startswith(f"job:batch {job.id}"))
        .group_by(AuditLog.table_name, AuditLog.record_id)
    ).all()
    assert {record for table, record, _ in audited if table == "passport"} == created
    assert {record for table, record, _ in audited if table == "customer"} == owners
    assert all(count == 1 for _, _, count in audited)
