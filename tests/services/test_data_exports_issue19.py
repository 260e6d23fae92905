"""A customer's data export (issue 19, R-DR-1): who may ask, how wide it looks, what the
ZIP holds (never a link or token), who may download it, and when it is deleted."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
from sqlalchemy import func, select

from admin_app.domain.errors import Forbidden, Gone, NotFound
from admin_app.jobs.data_exports import build_data_export
from admin_app.models import Customer, DataExport, OutboxMessage
from admin_app.models.base import utcnow
from admin_app.services import data_exports
from tests.conftest import DB_KIND
from tests.mails import run_queued

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="plain queries, one database")

EMAIL = "eigenaar@example.nl"


@pytest.fixture()
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_EXPORT_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture(autouse=True)
def _at_two_garages(world):
    """The demo's owner is a customer at Jansen; here also at De Vries (his e-mail typed
    in capitals there: the same person)."""
    from admin_app.models import Garage

    devries = world.session.scalars(select(Garage).where(Garage.name.startswith("Garage De"))).one()
    world.session.add(
        Customer(garage_id=devries.id, first_name="Eva", last_name="Eigenaar", email=EMAIL.upper())
    )
    world.session.commit()


def _his_rows(world):
    return world.session.scalars(
        select(Customer).where(func.lower(Customer.email) == EMAIL).order_by(Customer.id)
    ).all()


def _built(app, world, export_id, folder):
    """Run the queued build as the worker would, and open its ZIP."""
    world.session.commit()
    assert run_queued(app, build_data_export) == 1
    world.session.expire_all()
    export = world.session.get(DataExport, export_id)
    assert export.state == "ready" and export.progress == 100
    return export, zipfile.ZipFile(folder / export.file_path)


def _data(archive):
    return json.loads(archive.read("gegevens.json"))


def test_issue19_garage_export_covers_only_its_own_customer(app, world, acting_as, folder):
    """R-DR-1: a garage's export holds its customer's row and nothing of another garage."""
    rows = _his_rows(world)
    assert len({row.garage_id for row in rows}) > 1, "the demo's owner is at several garages"
    mine = rows[0]
    with acting_as(_garage_login(world, mine.garage_id)) as acting:
        export = data_exports.request_customer_export(
            world.session, mine.id, actor=acting.actor, whole_person=True, now=utcnow()
        )
        export_id = export.id
        assert export.scope == "garage"  # only Support answers for every garage
        world.session.commit()
    export, archive = _built(app, world, export_id, folder)
    data = _data(archive)
    assert [row["id"] for row in data["profile"]] == [mine.id]
    garage_name = mine.garage.name
    assert {row["garage"] for row in data["passports"]} <= {garage_name}
    assert {"overzicht.html", "gegevens.json"} <= set(archive.namelist())


def test_issue19_garage_cannot_export_another_garages_customer(world, acting_as):
    """R-DR-1, R-SEC-1: another garage's customer is not found."""
    rows = _his_rows(world)
    other = next(row for row in rows if row.garage_id != rows[0].garage_id)
    with acting_as(_garage_login(world, rows[0].garage_id)) as acting:
        with pytest.raises(NotFound):
            data_exports.request_customer_export(
                world.session, other.id, actor=acting.actor, whole_person=False, now=utcnow()
            )


def test_issue19_owner_export_spans_every_garage(app, world, acting_as, folder):
    """R-DR-1: the Owner's own export holds every customer row with his e-mail."""
    with acting_as("eigenaar") as acting:
        export_id = data_exports.request_own_export(
            world.session, actor=acting.actor, now=utcnow()
        ).id
        world.session.commit()
        with pytest.raises(Forbidden):
            data_exports.request_customer_export(
                world.session,
                _his_rows(world)[0].id,
                actor=acting.actor,
                whole_person=False,
                now=utcnow(),
            )
    export, archive = _built(app, world, export_id, folder)
    assert [row["id"] for row in _data(archive)["profile"]] == [r.id for r in _his_rows(world)]
    summary = archive.read("overzicht.html").decode()
    assert "Eigenaar" in summary and "every garage" not in summary  # Dutch
    assert "elke garage" in summary


def test_issue19_support_exports_one_row_or_the_person(world, acting_as):
    """R-DR-1: Support either — the garage's customer, or the person everywhere."""
    row = _his_rows(world)[0]
    with acting_as("support") as acting:
        one = data_exports.request_customer_export(
            world.session, row.id, actor=acting.actor, whole_person=False, now=utcnow()
        )
        everyone = data_exports.request_customer_export(
            world.session, row.id, actor=acting.actor, whole_person=True, now=utcnow()
        )
        assert (one.scope, one.garage_id) == ("garage", row.garage_id)
        assert (everyone.scope, everyone.garage_id) == ("person", None)
        subject = data_exports.subject_of(world.session, everyone)
        assert subject.customer_ids == tuple(r.id for r in _his_rows(world))


def test_issue19_zip_holds_no_link_or_token(app, world, acting_as, folder):
    """R-DR-1: mails by subject, date and state; their parameters (links, tokens) never."""
    mails = world.session.scalars(
        select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == EMAIL)
    ).all()
    assert mails, "the demo mails the owner (a pending transfer)"
    secrets = {
        str(value)
        for mail in mails
        for key, value in (mail.params or {}).items()
        if "token" in key or "link" in key or "url" in key
    }
    with acting_as("support") as acting:
        export_id = data_exports.request_customer_export(
            world.session,
            _his_rows(world)[0].id,
            actor=acting.actor,
            whole_person=True,
            now=utcnow(),
        ).id
        world.session.commit()
    _, archive = _built(app, world, export_id, folder)
    data = _data(archive)
    assert {m["subject"] for m in data["mails"]} == {m.subject for m in mails}
    for name in archive.namelist():
        content = archive.read(name)
        for word in (b"token", b"http://", b"https://", b"/activate", b"params"):
            assert word not in content.lower(), (name, word)
        for secret in secrets:
            assert secret.encode() not in content, name


def test_issue19_only_the_requester_downloads_audited(app, world, acting_as, folder):
    """R-DR-1, R-SEC-2: a colleague at the same garage gets not found; each download is
    logged; after 7 days the file is deleted and the link says so."""
    from admin_app.models import AuditLog, ConsoleUser
    from admin_app.services.audit import Actor

    row = _his_rows(world)[0]
    login = _garage_login(world, row.garage_id)
    with acting_as(login) as acting:
        export_id = data_exports.request_customer_export(
            world.session, row.id, actor=acting.actor, whole_person=False, now=utcnow()
        ).id
        world.session.commit()
        requester = acting.actor
    _built(app, world, export_id, folder)
    colleague = ConsoleUser(
        username="collega",
        first_name="C",
        last_name="Collega",
        email="c@example.nl",
        garage_id=row.garage_id,
        active=True,
    )
    world.session.add(colleague)
    world.session.flush()
    with pytest.raises(NotFound):
        data_exports.download(
            world.session,
            export_id,
            actor=Actor(
                colleague.id, "collega", roles=frozenset({"Garage"}), garage_id=row.garage_id
            ),
            folder=str(folder),
            now=utcnow(),
        )
    export, path = data_exports.download(
        world.session, export_id, actor=requester, folder=str(folder), now=utcnow()
    )
    assert path is not None and path.is_file()
    actions = world.session.scalars(
        select(AuditLog.action).where(
            AuditLog.table_name == "data_export", AuditLog.record_id == export_id
        )
    ).all()
    assert sorted(actions) == ["download", "insert"]
    later = utcnow() + dt.timedelta(days=8)
    assert data_exports.delete_expired_exports(world.session, later, str(folder)) == 1
    assert not path.exists()
    with pytest.raises(Gone):
        data_exports.download(
            world.session, export_id, actor=requester, folder=str(folder), now=later
        )


def test_issue19_the_build_runs_once(app, world, acting_as, folder):
    """R-DR-1: rq delivers at least once; a built export is not built again."""
    with acting_as("eigenaar") as acting:
        export_id = data_exports.request_own_export(
            world.session, actor=acting.actor, now=utcnow()
        ).id
        world.session.commit()
    _built(app, world, export_id, folder)
    assert data_exports.claim(world.session, export_id, utcnow()) is False


def _garage_login(world, garage_id) -> str:
    from admin_app.models import ConsoleUser

    return world.session.scalars(
        select(ConsoleUser.username).where(ConsoleUser.garage_id == garage_id)
    ).first()


def test_issue19_the_audit_log_says_it_in_words(world, acting_as):
    """R-SEC-2: the request and the download read as sentences, the scope as words."""
    from admin_app.models import AuditLog
    from admin_app.services.audit import describe_entries

    row = _his_rows(world)[0]
    with acting_as("support") as acting:
        export = data_exports.request_customer_export(
            world.session, row.id, actor=acting.actor, whole_person=True, now=utcnow()
        )
        entry = world.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "data_export")
        ).one()
        (described,) = describe_entries(world.session, [entry], "nl")
        assert described.what == "Gegevensexport aangevraagd"
        assert "De persoon bij elke garage" in described.changes_text
        assert "person" not in described.changes_text and export.id


def _form_owner(world):
    """The demo's fleet car with two saved forms: an earlier owner's (J. de Groot) and
    its present owner's."""
    from admin_app.models import InspectionForm, Passport

    form = world.session.scalars(
        select(InspectionForm)
        .where(InspectionForm.inspector == "Kees Werkplaats")
        .order_by(InspectionForm.id.desc())
    ).first()
    return world.session.get(Passport, form.passport_id).owner


def _export_of(world, acting_as, customer):
    with acting_as("support") as acting:
        export_id = data_exports.request_customer_export(
            world.session, customer.id, actor=acting.actor, whole_person=False, now=utcnow()
        ).id
        world.session.commit()
    return export_id


def test_issue19_forms_as_pdf_only_his_own(app, world, acting_as, folder):
    """R-DR-1: his car's forms as PDFs (wkhtmltopdf), not those naming an earlier owner."""
    owner = _form_owner(world)
    _, archive = _built(app, world, _export_of(world, acting_as, owner), folder)
    forms = _data(archive)["inspection_forms"]
    assert forms and all(f["content"]["customer"]["email"] == owner.email for f in forms)
    assert "J. de Groot" not in archive.read("gegevens.json").decode()
    pdfs = [n for n in archive.namelist() if n.startswith("inspectieformulieren/")]
    assert len(pdfs) == len(forms)
    assert all(archive.read(name).startswith(b"%PDF") for name in pdfs)


def test_issue19_without_wkhtmltopdf_the_summary_says_so(
    app, world, acting_as, folder, monkeypatch
):
    """R-DR-1: no PDF program on the server: the ZIP is made, and says why no PDFs."""
    from admin_app.jobs import data_exports as job

    monkeypatch.setattr(job.printing, "available", lambda: False)
    _, archive = _built(app, world, _export_of(world, acting_as, _form_owner(world)), folder)
    assert not [n for n in archive.namelist() if n.endswith(".pdf")]
    assert "niet op de server geïnstalleerd" in archive.read("overzicht.html").decode()


def test_issue19_a_build_that_cannot_finish_is_failed(app, world, acting_as, folder):
    """R-DR-1: the person erased before the worker came (his id set to none): the export
    reads "failed", no file is left, and the job's error reaches the worker's log."""
    export_id = _export_of(world, acting_as, _his_rows(world)[0])
    world.session.get(DataExport, export_id).customer_id = None
    world.session.commit()
    with pytest.raises(NotFound):
        run_queued(app, build_data_export)
    world.session.expire_all()
    export = world.session.get(DataExport, export_id)
    assert (export.state, export.file_path) == ("failed", None)
    assert list(folder.iterdir()) == []


def test_issue19_no_half_zip_stays_on_disk(app, world, acting_as, folder, monkeypatch):
    """R-DR-1: a build that breaks halfway (here: the PDF program fails) leaves no file."""
    from admin_app.services import printing

    def broken(html):
        raise OSError("wkhtmltopdf crashed")

    monkeypatch.setattr(printing, "html_to_pdf", broken)
    export_id = _export_of(world, acting_as, _form_owner(world))
    with pytest.raises(OSError):
        run_queued(app, build_data_export)
    world.session.expire_all()
    assert world.session.get(DataExport, export_id).state == "failed"
    assert list(folder.iterdir()) == []


def test_issue19_audit_entries_of_his_rows_and_transfers_to_him(app, world, acting_as, folder):
    """R-DR-1: the log's entries about him — his customer rows, and the transfer of a car
    to him — in words; not another customer's."""
    from admin_app.models import AuditLog, Transfer

    rows = _his_rows(world)
    transfer = world.session.scalars(
        select(Transfer).where(Transfer.to_customer_id.in_([r.id for r in rows]))
    ).first()
    assert transfer is not None, "the demo transfers a car to the owner"
    logged = world.session.scalars(
        select(AuditLog.id).where(
            ((AuditLog.table_name == "transfer") & (AuditLog.record_id == transfer.id))
            | ((AuditLog.table_name == "customer") & AuditLog.record_id.in_([r.id for r in rows]))
        )
    ).all()
    with acting_as("eigenaar") as acting:
        export_id = data_exports.request_own_export(
            world.session, actor=acting.actor, now=utcnow()
        ).id
        world.session.commit()
    _, archive = _built(app, world, export_id, folder)
    entries = _data(archive)["audit_log"]
    assert sorted(entry["id"] for entry in entries) == sorted(logged)
    assert "Overdracht gestart" in {entry["what"] for entry in entries}


def test_issue19_the_clock_deletes_an_export_past_its_7_days(app, world, acting_as, folder):
    """R-DR-1, R-DR-3: the worker's clock deletes a ZIP past its 7 days even when no other
    export is built after it (the build job only cleans up when one is)."""
    from admin_app.jobs.clock import tick

    row = _his_rows(world)[0]
    with acting_as(_garage_login(world, row.garage_id)) as acting:
        export_id = data_exports.request_customer_export(
            world.session, row.id, actor=acting.actor, whole_person=False, now=utcnow()
        ).id
        world.session.commit()
    export, archive = _built(app, world, export_id, folder)
    path = folder / export.file_path
    tick(app)
    assert path.exists()  # within its days
    export.expires_at = utcnow() - dt.timedelta(minutes=1)
    world.session.commit()
    tick(app)
    world.session.expire_all()
    assert not path.exists()
    assert world.session.get(DataExport, export_id).file_path is None


def test_issue19_erasing_him_deletes_the_zip_of_his_export(app, world, acting_as, folder):
    """R-DR-1, R-DR-2: an export's ZIP is everything he was: erasing the customer deletes
    it once the erase commits, and its link says it is gone."""
    from admin_app.services import erasure
    from admin_app.services.audit import Actor

    row = _his_rows(world)[-1]  # at De Vries: no car, no pending transfer
    with acting_as(_garage_login(world, row.garage_id)) as acting:
        export_id = data_exports.request_customer_export(
            world.session, row.id, actor=acting.actor, whole_person=False, now=utcnow()
        ).id
        world.session.commit()
        requester = acting.actor
    export, archive = _built(app, world, export_id, folder)
    path = folder / export.file_path
    support = Actor(None, "support", roles=frozenset({"Support"}))
    with app.app_context():  # as in the view and the API: DATA_EXPORT_FOLDER
        erasure.erase_customer(world.session, support, row, "Op zijn verzoek", dt.date.today())
        assert path.exists()  # not before the commit: an erase that fails keeps it
        world.session.commit()
    assert not path.exists()
    with pytest.raises(Gone):
        data_exports.download(
            world.session, export_id, actor=requester, folder=str(folder), now=utcnow()
        )


def test_issue19_attack2_html_in_his_name_and_notes_is_escaped_in_the_summary(
    app, world, acting_as, folder, monkeypatch
):
    """R-DR-1: a name or a note typed as HTML reads as text in overzicht.html (opened in
    his browser from disk), never as markup or script."""
    from admin_app.jobs import data_exports as job
    from admin_app.models import InspectionInvitation, Passport

    monkeypatch.setattr(job.printing, "available", lambda: False)
    customer = _his_rows(world)[0]
    customer.first_name = "<script>alert(1)</script>"
    car = world.session.scalars(select(Passport).where(Passport.owner_id == customer.id)).first()
    world.session.add(
        InspectionInvitation(
            garage_id=car.garage_id, passport_id=car.id, note='<img src=x onerror="alert(2)">'
        )
    )
    world.session.commit()
    _, archive = _built(app, world, _export_of(world, acting_as, customer), folder)
    summary = archive.read("overzicht.html").decode()
    assert "<script>alert" not in summary and "<img src=x" not in summary
    assert "&lt;script&gt;alert(1)" in summary and "&lt;img src=x" in summary
    names = archive.namelist()
    assert all(".." not in n and not n.startswith("/") for n in names), names


def test_issue19_use_summary_names_the_garage_and_lists_invoices_by_date(
    app, world, acting_as, folder
):
    """A car owner reads which garage the export is from, and his invoices and contact
    proposals in date order (they were in the order they were stored)."""
    mine = _his_rows(world)[0]
    export_id = _export_of(world, acting_as, mine)
    export, archive = _built(app, world, export_id, folder)
    data = _data(archive)
    dates = [row["invoice_date"] for row in data["invoices"]]
    assert len(dates) > 1 and dates == sorted(dates)
    weeks = [row["week_start"] for row in data["contact_proposals"]]
    assert weeks == sorted(weeks)
    summary = archive.read("overzicht.html").decode()
    assert f"Het omvat wat {mine.garage.name} over u bewaart." in summary
    # His opt-out reads as on his page and in the log, not a third way.
    assert "<th>Geen uitnodigingen meer</th>" in summary and "Nooit benaderen" not in summary


def test_issue19_use_summary_shows_no_form_kind_he_would_read_as_a_result(
    app, world, acting_as, folder
):
    """ "Gevuld met klantgegevens, alle controlepunten OK" is how the form was started, not
    its result: the summary leaves it out (gegevens.json keeps it); his mails are "aan u",
    a waiting one under "Verstuurde e-mails" read wrong."""
    owner = _form_owner(world)
    _, archive = _built(app, world, _export_of(world, acting_as, owner), folder)
    assert all("kind" in form for form in _data(archive)["inspection_forms"])
    summary = archive.read("overzicht.html").decode()
    assert "controlepunten OK" not in summary and "Gevuld met klantgegevens" not in summary
    assert "<h2>E-mails aan u</h2>" in summary and "Verstuurde e-mails" not in summary


def test_issue19_a_build_lost_with_its_worker_is_failed_by_the_clock(app, world, acting_as):
    """R-DR-1: an export still "being made" an hour after its build was claimed (or asked,
    unclaimed) lost its worker, and nobody queues it again: the clock fails it, so his
    page says to ask again. One claimed a minute ago is left building."""
    from admin_app.models.data_exports import BUILDING, FAILED

    rows = _his_rows(world)
    now = utcnow()
    ids = [_export_of(world, acting_as, customer) for customer in rows[:2]]
    lost, busy = (world.session.get(DataExport, i) for i in ids)
    lost.claimed_at = now - data_exports.STALE_AFTER - dt.timedelta(minutes=1)
    busy.claimed_at = now - dt.timedelta(minutes=1)
    world.session.commit()

    assert data_exports.fail_lost_builds(world.session, now) == 1
    world.session.commit()
    world.session.expire_all()
    assert (lost.state, busy.state) == (FAILED, BUILDING)
