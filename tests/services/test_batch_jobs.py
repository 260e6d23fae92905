"""R-BJ-1…6: customer lists from upload to outcome, with the sample files (tests/data)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.domain.plates import display_plate
from admin_app.jobs.batch import process_job
from admin_app.models import AuditLog, BatchJob, BatchRow, OutboxMessage, Passport
from admin_app.services import batch_jobs, vehicle_values
from tests.mails import mail_text

DATA = Path(__file__).resolve().parents[1] / "data"
AMS = dt.timezone(dt.timedelta(hours=1))

EXPECTED = {  # ../shared/data/README.md
    "klantenlijst-voorbeeld.csv": {"create": 40, "refused": 0},
    "klantenlijst-voorbeeld.xlsx": {"create": 40, "refused": 0},
    "klantenlijst-utf8-komma.csv": {"create": 30, "refused": 0},
    "klantenlijst-met-fouten.csv": {"create": 45, "refused": 15},
}


def upload(s, acting, name, data=None, send=False):
    with unit_of_work(s):
        return batch_jobs.upload_list(
            s,
            actor=acting.actor,
            filename=name,
            data=data if data is not None else (DATA / name).read_bytes(),
            send_to_customers=send,
            chunk_size=7,  # many chunks, even for the small sample files
        )


def run(s, job_id):
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert job_id in batch_jobs.claim_due_jobs(s, now)
    # Two chunks side by side on PostgreSQL (SQLite writes them one after another).
    return process_job(s, job_id, parallel=2)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_r_bj_2_every_shared_file_previews_and_runs_as_its_readme_says(acting_as, world, name):
    s = world.session
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, name)
        assert job.counts["create"] == EXPECTED[name]["create"]
        assert job.counts["refused"] == EXPECTED[name]["refused"]
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    done = run(s, job.id)
    assert done.state == "done"
    assert done.counts["create"] == EXPECTED[name]["create"]
    assert done.counts["refused"] == EXPECTED[name]["refused"]
    created = s.scalar(
        select(func.count())
        .select_from(Passport)
        .where(
            Passport.created_via == "list",
            Passport.garage_id == world.garage("Garage De Vries").id,
            Passport.plate.in_(select(BatchRow.plate).where(BatchRow.batch_job_id == job.id)),
        )
    )
    assert created == EXPECTED[name]["create"]
    unlinked = s.scalar(
        select(func.count())
        .select_from(BatchRow)
        .where(
            BatchRow.batch_job_id == job.id,
            BatchRow.outcome == "created",
            BatchRow.passport_id.is_(None),
        )
    )
    assert unlinked == 0  # every created row points at its passport


def test_r_bj_2_refusal_reasons_and_row_numbers(acting_as, world):
    with acting_as("garage-devries") as acting:
        job = upload(world.session, acting, "klantenlijst-met-fouten.csv")
        refused = world.session.scalars(
            select(BatchRow)
            .where(BatchRow.batch_job_id == job.id, BatchRow.plan == "refused")
            .order_by(BatchRow.row_number)
        ).all()
        repeats = [r for r in refused if "herhaalt rij" in r.reason_text()]
        assert len(repeats) == 5
        assert all(r.row_number >= 2 for r in refused)


def test_r_bj_6_the_same_file_twice_gives_only_unchanged(acting_as, world):
    s = world.session
    with acting_as("garage-devries") as acting:
        first = upload(s, acting, "klantenlijst-voorbeeld.csv")
        with unit_of_work(s):
            batch_jobs.confirm_job(s, first.id, actor=acting.actor)
    run(s, first.id)
    with acting_as("garage-devries") as acting:
        second = upload(s, acting, "klantenlijst-voorbeeld.csv")
        assert second.counts == {"create": 0, "update": 0, "unchanged": 40, "refused": 0}


def test_r_bj_6_audit_rows_are_written_in_bulk_for_every_creation(acting_as, world):
    s = world.session
    before = s.scalar(select(func.count()).select_from(AuditLog))
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "klantenlijst-utf8-komma.csv")
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    run(s, job.id)
    added = s.scalars(
        select(AuditLog).where(AuditLog.id > 0).order_by(AuditLog.id.desc()).limit(200)
    ).all()
    passports = [
        a
        for a in added
        if a.table_name == "passport"
        and a.action == "insert"
        and a.actor_name.startswith(f"job:batch {job.id}")
    ]
    assert len(passports) == 30
    assert s.scalar(select(func.count()).select_from(AuditLog)) - before >= 30


def test_r_bj_3_send_to_customers_queues_one_activation_mail_per_passport(acting_as, world):
    s = world.session
    mails = s.scalar(select(func.count()).select_from(OutboxMessage))
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "klantenlijst-utf8-komma.csv", send=True)
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    run(s, job.id)
    assert s.scalar(select(func.count()).select_from(OutboxMessage)) == mails + 30
    states = set(
        s.scalars(
            select(Passport.state).where(
                Passport.created_via == "list", Passport.sent_at.is_not(None)
            )
        )
    )
    assert "sent" in states


def test_r_bj_3_each_queued_mail_gets_a_working_single_use_link_when_sent(acting_as, world):
    """The mails are queued in SQL (no row passes through Python), their links made when
    they are sent: each link must open the passport it was made for, the plate shown with
    its dashes, the garage named."""
    from admin_app.models import Garage
    from admin_app.services.passports import passport_for_activation

    s = world.session
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "klantenlijst-utf8-komma.csv", send=True)
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    run(s, job.id)
    garage = s.get(Garage, job.garage_id)
    rows = s.scalars(
        select(BatchRow).where(BatchRow.batch_job_id == job.id, BatchRow.outcome == "created")
    ).all()
    links = {}
    for row in rows:
        mail = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "activation",
                OutboxMessage.subject.contains(row.shown_plate),
            )
        ).one()
        text = mail_text(s, mail)
        assert garage.name in mail.subject and garage.name in text
        assert display_plate(row.plate) == row.shown_plate and "-" in row.shown_plate
        link = next(word for word in text.split() if "/activate/" in word)
        assert link.startswith("http://localhost/activate/")
        links[row.passport_id] = link.rsplit("/", 1)[1]
    assert len(set(links.values())) == len(rows) == 30  # a token of its own per passport
    for passport_id, raw in links.items():
        assert passport_for_activation(s, raw).id == passport_id
    assert not s.scalar(select(func.count()).select_from(batch_jobs.CHUNK_PLAN))


def test_r_bj_6_all_rows_of_an_email_share_a_chunk_and_chunks_stay_small():
    assign = batch_jobs.chunk_assigner(10)
    # Customers with one to three cars, their rows together or a few rows apart.
    emails = [f"c{i // 3}@x.nl" if i % 5 else f"c{(i - 5) // 3}@x.nl" for i in range(200)]
    chunks = [assign(email) for email in emails]
    chunk_of = {}
    for email, chunk in zip(emails, chunks, strict=True):
        assert chunk_of.setdefault(email, chunk) == chunk  # never two chunks for an e-mail
    assert max(chunks.count(n) for n in set(chunks)) <= 10  # progress at least every 10 rows
    # One e-mail with more rows than a chunk holds: its chunks follow one another.
    assign = batch_jobs.chunk_assigner(10)
    chunks = [assign("lease@x.nl") for _ in range(35)]
    assert chunks == sorted(chunks) and max(chunks.count(n) for n in set(chunks)) <= 10


def test_r_bj_6_an_email_on_more_rows_than_a_chunk_becomes_one_customer(acting_as, world):
    """A lease company's cars under one e-mail outgrow a chunk: the chunks that follow it
    wait for it, even when chunks run side by side, so the company is one customer."""
    from admin_app.models import Customer

    s = world.session
    plates = [f"GZ{number:02d}XT" for number in range(25)]  # side-code 4
    header = "kenteken;email;voornaam;achternaam\n"
    lines = [f"{plate};wagenpark@lease.nl;;Lease BV" for plate in plates]
    data = (header + "\n".join(lines) + "\n").encode()
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "lease.csv", data=data)
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    assert len(set(s.scalars(select(BatchRow.chunk).where(BatchRow.batch_job_id == job.id)))) > 2
    done = run(s, job.id)
    assert done.counts["create"] == 25
    owners = s.scalars(
        select(Customer.id).where(func.lower(Customer.email) == "wagenpark@lease.nl")
    ).all()
    assert len(owners) == 1
    assert set(s.scalars(select(Passport.owner_id).where(Passport.plate.in_(plates)))) == set(
        owners
    )


def test_r_bj_2_plate_live_at_another_garage_and_activated_email_change_are_refused(
    acting_as, world
):
    s = world.session
    jansen_car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")[0]
    devries_active = next(
        p
        for p in world.passports(garage_id=world.garage("Garage De Vries").id, state="activated")
        if not p.stock_car
    )
    data = (
        "kenteken;email;achternaam\r\n"
        f"{jansen_car.plate_display};a@example.nl;A\r\n"
        f"{devries_active.plate};ander@example.nl;B\r\n"
    ).encode("cp1252")
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "lijst.csv", data)
        rows = s.scalars(
            select(BatchRow).where(BatchRow.batch_job_id == job.id).order_by(BatchRow.row_number)
        ).all()
        assert [r.plan for r in rows] == ["refused", "refused"]
        reasons = [r.reason_text() for r in rows]
        assert "andere garage" in reasons[0] and "Autobedrijf" not in reasons[0]
        assert "supportdesk" in reasons[1]
        assert [r.reason_code for r in rows] == ["other_garage", "email_locked"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "leeg"),
        (b"naam;adres\r\nJan;Dorp\r\n", "kenteken"),
        (b"kenteken;email;achternaam\r\n", "geen klanten"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xlsx"),
        (b"PK\x03\x04not-really-a-zip", "Excel"),
    ],
)
def test_r_bj_2_unreadable_files_are_refused_whole_and_store_nothing(
    acting_as, world, content, message
):
    s = world.session
    jobs = s.scalar(select(func.count()).select_from(BatchJob))
    with acting_as("garage-devries") as acting:
        with pytest.raises(InvalidInput) as refused:
            upload(s, acting, "lijst.csv", content)
        assert message in str(refused.value.message)
    assert s.scalar(select(func.count()).select_from(BatchJob)) == jobs


@pytest.mark.parametrize(
    "now, expected",
    [
        # winter (CET, UTC+1): 01:00 Amsterdam is 00:00 UTC
        (
            dt.datetime(2026, 1, 14, 15, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 15, 0, 0, tzinfo=dt.UTC),
        ),
        # summer (CEST, UTC+2): 01:00 Amsterdam is 23:00 UTC the day before
        (
            dt.datetime(2026, 7, 14, 15, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 7, 14, 23, 0, tzinfo=dt.UTC),
        ),
        # just after midnight local, before 01:00: tonight still
        (
            dt.datetime(2026, 1, 14, 23, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 15, 0, 0, tzinfo=dt.UTC),
        ),
        # the night the clocks go forward (29 March 2026): 01:00 CET exists
        (
            dt.datetime(2026, 3, 28, 12, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC),
        ),
        # the night the clocks go back (25 October 2026): 01:00 CEST
        (
            dt.datetime(2026, 10, 24, 12, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_r_bj_4_nightly_run_is_at_01_00_amsterdam_all_year(now, expected):
    assert batch_jobs.next_nightly_run(now) == expected


def test_r_bj_4_missed_run_catches_up_and_is_claimed_once(acting_as, world):
    s = world.session
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "klantenlijst-voorbeeld.csv")
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
        due = job.scheduled_for
    assert batch_jobs.claim_due_jobs(s, due - dt.timedelta(minutes=1)) == []
    # the system was down that night: three days later it is still due, and claimed once
    later = due + dt.timedelta(days=3)
    assert batch_jobs.claim_due_jobs(s, later) == [job.id]
    assert batch_jobs.claim_due_jobs(s, later) == []


def test_r_bj_4_cancel_until_it_starts_and_run_now_by_support(acting_as, world):
    s = world.session
    with acting_as("garage-devries") as acting:
        job = upload(s, acting, "klantenlijst-voorbeeld.csv")
        with unit_of_work(s):
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
        with pytest.raises(Forbidden):
            batch_jobs.run_now(s, job.id, actor=acting.actor)
    with acting_as("support") as acting, unit_of_work(s):
        batch_jobs.run_now(s, job.id, actor=acting.actor)
    assert batch_jobs.claim_due_jobs(s, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == [
        job.id
    ]
    # Queued is not started (issue 17): it starts when a worker claims it.
    assert batch_jobs.claim_job(s, job.id, worker="w1")
    with acting_as("garage-devries") as acting, pytest.raises(Conflict, match="start"):
        batch_jobs.cancel_job(s, job.id, actor=acting.actor)


def test_r_bj_2_a_large_list_is_previewed_in_the_background_with_progress(acting_as, world, app):
    from admin_app.jobs.batch import preview_batch

    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            job = batch_jobs.upload_list(
                s,
                actor=acting.actor,
                filename="klantenlijst-met-fouten.csv",
                data=(DATA / "klantenlijst-met-fouten.csv").read_bytes(),
                send_to_customers=False,
                background_from=10,
            )
        assert job.state == "previewing" and job.total_rows == 60
        assert (
            s.scalar(
                select(func.count()).select_from(BatchRow).where(BatchRow.batch_job_id == job.id)
            )
            == 0
        )
    with app.app_context():
        preview_batch(job.id)
    s.expire_all()
    job = s.get(BatchJob, job.id)
    assert job.state == "preview" and job.upload is None
    assert job.counts == {"create": 45, "update": 0, "unchanged": 0, "refused": 15}


def _edited(name: str, edits: dict[int, dict[str, str]]) -> bytes:
    """The sample list with some cells changed: {data row index: {header: value}}."""
    lines = (DATA / name).read_bytes().decode("cp1252").split("\r\n")
    header = lines[0].split(";")
    for index, cells in edits.items():
        values = lines[index + 1].split(";")
        for column, value in cells.items():
            values[header.index(column)] = value
        lines[index + 1] = ";".join(values)
    return "\r\n".join(lines).encode("cp1252")


def test_r_bj_6_a_changed_list_updates_owner_vehicle_and_contact_data_with_audit(acting_as, world):
    s = world.session
    name = "klantenlijst-voorbeeld.csv"
    with acting_as("garage-devries") as acting:
        first = upload(s, acting, name)
        with unit_of_work(s):
            batch_jobs.confirm_job(s, first.id, actor=acting.actor)
    run(s, first.id)
    edited = _edited(
        name,
        {
            0: {"merk": "Tesla"},
            1: {"telefoon": "06-99999999"},
            2: {"email": "nieuwe.eigenaar@example.nl"},
            3: {"merk": ""},  # an empty cell changes nothing
        },
    )
    audit_before = s.scalar(select(func.max(AuditLog.id)))
    with acting_as("garage-devries") as acting:
        second = upload(s, acting, "gewijzigd.csv", edited)
        assert second.counts == {"create": 0, "update": 3, "unchanged": 37, "refused": 0}
        with unit_of_work(s):
            batch_jobs.confirm_job(s, second.id, actor=acting.actor)
    done = run(s, second.id)
    assert done.counts == {"create": 0, "update": 3, "unchanged": 37, "refused": 0}
    rows = {
        r.row_number: r
        for r in s.scalars(select(BatchRow).where(BatchRow.batch_job_id == second.id))
    }
    tesla = s.get(Passport, rows[2].passport_id)
    assert tesla.brand == "Tesla"
    assert s.get(Passport, rows[3].passport_id).owner.phone == "06-99999999"
    assert s.get(Passport, rows[4].passport_id).owner.email == "nieuwe.eigenaar@example.nl"
    # Kept: the list's brand was the register's (issue 18: stored as nothing typed), and
    # the empty cell did not change what counts.
    kept = s.get(Passport, rows[5].passport_id)
    assert vehicle_values.values_of_one(s, kept).brand.value
    audit = s.scalars(select(AuditLog).where(AuditLog.id > audit_before)).all()
    changes = sorted((a.table_name, a.action, sorted(a.changes)) for a in audit)
    # One new customer (the new owner's e-mail), one contact change, two passport changes.
    assert len(changes) == 4
    assert ("passport", "update", ["brand"]) in changes
    assert ("passport", "update", ["owner_id"]) in changes
    assert ("customer", "update", ["phone"]) in changes
    new_customer = next(c for c in changes if c[:2] == ("customer", "insert"))
    assert {"email", "last_name"} <= set(new_customer[2])
    brand_change = next(a for a in audit if sorted(a.changes) == ["brand"])
    assert brand_change.changes["brand"][1] == "Tesla"
    with acting_as("garage-devries") as acting:
        again = upload(s, acting, "gewijzigd.csv", edited)
        assert again.counts == {"create": 0, "update": 0, "unchanged": 40, "refused": 0}


def test_r_bj_2_a_cell_longer_than_the_database_holds_is_refused_with_its_row(acting_as, world):
    data = f"kenteken;email;achternaam;plaats\r\n12-ABC-3;a@example.nl;A;{'x' * 101}\r\n"
    with acting_as("garage-devries") as acting:
        job = upload(world.session, acting, "lang.csv", data.encode())
        row = world.session.scalars(select(BatchRow).where(BatchRow.batch_job_id == job.id)).one()
        assert row.plan == "refused" and "plaats" in row.reason_text()
        assert "100" in row.reason_text() and row.reason_code == "cell_too_long"


def test_issue19_attack2_a_failed_background_preview_keeps_no_uploaded_file(
    acting_as, world, app, monkeypatch
):
    """R-DR-2/R-DR-3: the uploaded list (every customer's name and address) is kept only
    until its rows are read; a preview that fails must not keep it for ever (no erase nor
    retention reads that file)."""
    from admin_app.jobs.batch import preview_batch

    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            job = batch_jobs.upload_list(
                s,
                actor=acting.actor,
                filename="klantenlijst-met-fouten.csv",
                data=(DATA / "klantenlijst-met-fouten.csv").read_bytes(),
                send_to_customers=False,
                background_from=10,
            )
    assert job.upload is not None

    def broken(*args, **kwargs):
        raise RuntimeError("the worker died halfway")

    monkeypatch.setattr(batch_jobs.preview, "check_rows", broken)
    with app.app_context(), pytest.raises(RuntimeError):
        preview_batch(job.id)
    s.expire_all()
    job = s.get(BatchJob, job.id)
    assert job.state == "failed" and job.upload is None
