"""R-IN-1…7: inspection forms as services, without HTTP."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, InvalidInput, NotFound
from admin_app.jobs.batch import process_job
from admin_app.models import BatchRow, OutboxMessage, Recall
from admin_app.services import batch_jobs, inspections
from tests.mails import mail_text
from tests.mailsink import free_port

DATA = Path(__file__).resolve().parents[1] / "data"
DAY = dt.date(2026, 11, 20)


# --- R-IN-3: the dates window, both sides of the boundary ---------------------------------


@pytest.mark.parametrize(
    "date, shown, overdue",
    [
        (dt.date(2027, 3, 19), True, False),  # one day before inspection date + 4 months
        (dt.date(2027, 3, 20), False, False),  # exactly + 4 months: not earlier
        (dt.date(2027, 6, 1), False, False),
        (dt.date(2026, 11, 19), True, True),  # passed: shown, marked overdue
        (dt.date(2026, 11, 20), True, False),  # the inspection day itself
        (None, False, False),  # unknown: left out
    ],
)
def test_r_in_3_dates_are_shown_within_four_months_and_overdue_marked(date, shown, overdue, app):
    with app.test_request_context("/"):
        dates = inspections.PassportDates(apk_expiry=date.isoformat() if date else None)
        result = inspections.dates_to_show(dates, DAY)
    assert bool(result) == shown
    if shown:
        assert result[0].name == "apk_expiry" and result[0].overdue == overdue


def test_r_in_3_four_months_from_the_end_of_a_month():
    assert inspections.add_months(dt.date(2026, 10, 31), 4) == dt.date(2027, 2, 28)
    assert inspections.add_months(dt.date(2027, 10, 31), 4) == dt.date(2028, 2, 29)


# --- R-IN-4: prices with VAT ----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, cents",
    [("1.234,56", 123456), ("12,5", 1250), ("€ 80", 8000), (99.95, 9995), ("0", 0)],
)
def test_r_in_4_prices_as_typed_in_the_netherlands(typed, cents):
    assert inspections.parse_price(typed) == cents


@pytest.mark.parametrize("typed", ["-5", "-0,01", "twaalf", "", "1,2,3", True, "9999999999"])
def test_r_in_4_negative_or_non_numeric_prices_are_refused(typed, app):
    with app.test_request_context("/"), pytest.raises(InvalidInput):
        inspections.parse_price(typed)


def test_r_in_4_euro_notation_and_the_vat_inside_a_price():
    assert inspections.euro(123456) == "€ 1.234,56"
    assert inspections.euro(5) == "€ 0,05"
    assert inspections.vat_in(12100) == 2100


# --- forms ----------------------------------------------------------------------------------


def _jansen_passport(world):
    return world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[1]


def _new(s, acting, kind="customer", passport=None, day=DAY):
    with unit_of_work(s):
        return inspections.create_draft(
            s,
            kind=kind,
            actor=acting.actor,
            inspector="Piet Monteur",
            inspection_date=day,
            passport_id=passport.id if passport else None,
        )


def _save(s, acting, form, today=DAY):
    with unit_of_work(s):
        return inspections.save_form(s, form.id, actor=acting.actor, today=today)


def _edit(s, acting, form, changes, today=DAY):
    with unit_of_work(s):
        return inspections.update_form(s, form.id, changes, actor=acting.actor, today=today)


def _mails(s):
    return s.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "inspection")
    )


def test_r_in_2_three_kinds_of_new_form(acting_as, world):
    s = world.session
    passport = _jansen_passport(world)
    with acting_as("garage-jansen") as acting:
        filled = _new(s, acting, "customer", passport)
        all_ok = _new(s, acting, "all_ok", passport)
        blank = _new(s, acting, "blank")
        assert filled.is_draft and filled.content["customer"]["email"] == passport.owner.email
        assert filled.content["vehicle"]["plate"] == passport.plate
        assert len(filled.content["results"]) >= 40
        assert {r["status"] for r in filled.content["results"]} == {None}
        assert {r["status"] for r in all_ok.content["results"]} == {"ok"}
        assert blank.content["customer"]["name"] == "" and blank.plate is None
        assert blank.inspector == "Piet Monteur" and blank.inspection_date == DAY


def test_r_in_1_find_by_plate_or_customer_number_with_earlier_forms(acting_as, world):
    s = world.session
    passport = _jansen_passport(world)
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "customer", passport)
        found = inspections.find_vehicle(s, passport.plate_display.lower(), with_invitation=False)
        assert [p.id for p in found.passports] == [passport.id]
        assert [f.id for f in found.earlier_forms] == [form.id]
        if passport.owner.customer_number:
            by_number = inspections.find_vehicle(
                s, passport.owner.customer_number, with_invitation=False
            )
            assert passport.id in [p.id for p in by_number.passports]
        assert inspections.find_vehicle(s, passport.plate, with_invitation=True).passports == []
        with unit_of_work(s):
            inspections.register_invitation(s, passport_id=passport.id, actor=acting.actor)
        invited = inspections.find_vehicle(s, passport.plate, with_invitation=True)
        assert [p.id for p in invited.passports] == [passport.id]


def test_r_in_5_each_save_is_a_version_with_what_changed(acting_as, world):
    s = world.session
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        first = _save(s, acting, form)
        assert first.number == 1 and first.change_texts() == ["Eerste versie."]
        checkpoint = form.content["results"][0]
        _edit(s, acting, form, {"results": [{**checkpoint, "status": "urgent", "remark": "x"}]})
        second = _save(s, acting, form)
        assert second.number == 2 and any(checkpoint["name"] in c for c in second.change_texts())
        content, number = inspections.version_content(form, 1)
        assert number == 1 and content.results[0].status == "ok"  # as it was
        with pytest.raises(Conflict):
            _save(s, acting, form)  # nothing changed


def test_r_in_5_after_the_inspection_day_only_performed_work_unless_still_adjusting(
    acting_as, world
):
    s = world.session
    later = DAY + dt.timedelta(days=1)
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        _save(s, acting, form)
        with pytest.raises(Conflict):
            _edit(s, acting, form, {"advice": [{"description": "Banden", "price": "100"}]}, later)
        with unit_of_work(s):
            inspections.add_performed_work(
                s,
                form.id,
                description="Remblokken vervangen",
                done_on=later,
                actor=acting.actor,
                today=later,
            )
        adjusting = _new(s, acting, "all_ok", _jansen_passport(world))
        _edit(s, acting, adjusting, {"still_adjusting": True})
        _save(s, acting, adjusting)
        before = _mails(s)
        _edit(s, acting, adjusting, {"advice": [{"description": "Banden", "price": "100"}]}, later)
        _save(s, acting, adjusting, later)
        _edit(s, acting, adjusting, {"advice": [{"description": "Banden", "price": "90"}]}, later)
        _save(s, acting, adjusting, later)
        assert _mails(s) == before + 2  # a mail at every change


def test_r_in_6_advice_mail_lists_items_and_a_signed_link_once_per_save(acting_as, world, app):
    s = world.session
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        advice = [
            {"description": "Voorbanden vervangen", "price": "189,90"},
            {"description": "Ruitenwissers", "price": "34,50"},
        ]
        _edit(s, acting, form, {"advice": advice})
        before = _mails(s)
        version = _save(s, acting, form)
        assert version.mailed and _mails(s) == before + 1
        mail = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).one()
        text = mail_text(s, mail)
        assert "Voorbanden vervangen" in text and "€ 224,40" in text
        link = text.split("/inspection/")[1].split()[0]
        assert inspections.form_from_link(s, link)[0].id == form.id
        with pytest.raises(NotFound):
            inspections.form_from_link(s, link[:-2] + "xx")
        checkpoint = form.content["results"][1]
        _edit(s, acting, form, {"results": [{**checkpoint, "remark": "licht vuil"}]})
        _save(s, acting, form)  # advice unchanged, no "send updates": no mail
        assert _mails(s) == before + 1
        with unit_of_work(s):
            inspections.mail_again(s, form.id, actor=acting.actor)
        assert _mails(s) == before + 2


def test_r_in_4_performed_work_on_a_saved_form_never_in_the_future(acting_as, world):
    s = world.session
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        with pytest.raises(Conflict):
            inspections.add_performed_work(
                s, form.id, description="x", done_on=DAY, actor=acting.actor, today=DAY
            )
        _save(s, acting, form)
        with pytest.raises(InvalidInput):
            inspections.add_performed_work(
                s,
                form.id,
                description="x",
                done_on=DAY + dt.timedelta(days=1),
                actor=acting.actor,
                today=DAY,
            )


def test_r_in_1_a_form_of_another_garage_is_not_found(acting_as, world):
    s = world.session
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        _save(s, acting, form)
    with acting_as("garage-devries") as acting:
        with pytest.raises(NotFound):
            inspections.get_form(s, form.id)
        with pytest.raises(NotFound):
            inspections.update_form(s, form.id, {"inspector": "x"}, actor=acting.actor)


# --- R-IN-3: recalls ------------------------------------------------------------------------


def test_r_in_3_recall_import_is_seen_only_through_the_garages_own_passports(acting_as, world):
    s = world.session
    with acting_as("garage-devries") as acting:
        with unit_of_work(s):
            job = batch_jobs.upload_list(
                s,
                actor=acting.actor,
                filename="klantenlijst-voorbeeld.csv",
                data=(DATA / "klantenlijst-voorbeeld.csv").read_bytes(),
                send_to_customers=False,
            )
            batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    assert job.id in batch_jobs.claim_due_jobs(s, dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    process_job(s, job.id)
    with acting_as("admin") as acting:
        with unit_of_work(s):
            counts = inspections.import_recalls(
                s,
                filename="recalls-voorbeeld.csv",
                data=(DATA / "recalls-voorbeeld.csv").read_bytes(),
                actor=acting.actor,
            )
        assert counts["created"] == 13
        with unit_of_work(s):
            again = inspections.import_recalls(
                s,
                filename="recalls-voorbeeld.csv",
                data=(DATA / "recalls-voorbeeld.csv").read_bytes(),
                actor=acting.actor,
            )
        assert again["unchanged"] == 13
    open_plates = set(s.scalars(select(Recall.plate).where(Recall.status == "O")))
    with acting_as("garage-devries") as acting:
        plates = select(BatchRow.plate).where(BatchRow.batch_job_id == job.id)
        listed = [
            p
            for p in world.passports(garage_id=acting.actor.garage_id)
            if p.plate in set(s.scalars(plates))
        ]
        with_recall = from_file = 0
        for passport in listed:
            form = _new(s, acting, "customer", passport)
            recalls = inspections.form_recalls(s, form)
            with_recall += bool(recalls)
            from_file += any(r.reference.startswith("RDW2024") for r in recalls)
        assert from_file == 8
        # Issue 18: the demo's vehicle register has open recalls of 3 more of its plates.
        assert with_recall == 11
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "blank")
        _edit(s, acting, form, {"vehicle": {"plate": sorted(open_plates)[0]}})
        assert inspections.form_recalls(s, form) == []  # typed by hand: not his passport


# --- R-IN-7: printing ------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())  # the extractor separates words by tabs and line breaks


def test_r_in_7_a_draft_is_refused_and_a_saved_form_prints(acting_as, world):
    s = world.session
    passport = _jansen_passport(world)
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", passport)
        with pytest.raises(Conflict):
            inspections.form_pdf(s, form.id)
        _edit(s, acting, form, {"advice": [{"description": "Accu vervangen", "price": "149,00"}]})
        _save(s, acting, form)
        with unit_of_work(s):
            inspections.add_performed_work(
                s, form.id, description="Olie ververst", done_on=DAY, actor=acting.actor, today=DAY
            )
        _, pdf = inspections.form_pdf(s, form.id)
    text = _pdf_text(pdf)
    assert passport.plate_display in text
    assert "€ 149,00" in text and "Olie ververst" in text and "Versie 1" in text


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_r_in_7_user_text_cannot_read_files_or_reach_the_network(acting_as, world):
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    attacks = [
        '<iframe src="file:///etc/passwd"></iframe>',
        f'<img src="http://127.0.0.1:{port}/x">',
        f"<script>document.write('<img src=http://127.0.0.1:{port}/js>')</script>",
    ]
    s = world.session
    try:
        with acting_as("garage-jansen") as acting:
            form = _new(s, acting, "all_ok", _jansen_passport(world))
            results = form.content["results"][:3]
            _edit(
                s,
                acting,
                form,
                {
                    "inspector": attacks[1],
                    "results": [
                        {**r, "status": "advice", "remark": attack}
                        for r, attack in zip(results, attacks, strict=True)
                    ],
                },
            )
            _save(s, acting, form)
            _, pdf = inspections.form_pdf(s, form.id)
    finally:
        server.shutdown()
    text = _pdf_text(pdf)
    assert "file:///etc/passwd" in text  # shown literally
    assert "<script>" in text
    assert "root:x:0:0" not in text
    assert _Recorder.hits == []


def test_r_in_4_a_garage_adds_its_own_checkpoints_to_new_forms_only(acting_as, world):
    s = world.session
    with acting_as("garage-jansen") as acting:
        before = _new(s, acting, "all_ok", _jansen_passport(world))
        with unit_of_work(s):
            own = inspections.add_checkpoint(
                s, group="Remmen", name="Remschijven op roest", actor=acting.actor
            )
        after = _new(s, acting, "customer", _jansen_passport(world))
        names = [r["name"] for r in after.content["results"]]
        assert "Remschijven op roest" in names
        assert "Remschijven op roest" not in [r["name"] for r in before.content["results"]]
        brakes = [r["name"] for r in after.content["results"] if r["group"] == "Remmen"]
        assert brakes[-1] == "Remschijven op roest"  # after the standard ones of its group
        standard = next(
            c for c in inspections.checklist(s, acting.actor.garage_id) if not c.garage_id
        )
        with pytest.raises(NotFound):
            inspections.remove_checkpoint(s, standard.id, actor=acting.actor)
    with acting_as("garage-devries") as acting:
        other = _new(s, acting, "blank")
        assert "Remschijven op roest" not in [r["name"] for r in other.content["results"]]
        with pytest.raises(NotFound):
            inspections.remove_checkpoint(s, own.id, actor=acting.actor)
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            inspections.remove_checkpoint(s, own.id, actor=acting.actor)


def test_r_in_7_a_renderer_failure_becomes_a_message(acting_as, world, monkeypatch):
    from admin_app.services import printing

    s = world.session
    with acting_as("garage-jansen") as acting:
        form = _new(s, acting, "all_ok", _jansen_passport(world))
        _save(s, acting, form)
        monkeypatch.setattr(printing, "TIMEOUT_SECONDS", 0.001)  # a renderer that hangs
        with pytest.raises(printing.PrintFailed) as failed:
            inspections.form_pdf(s, form.id)
        assert "te lang" in str(failed.value.message)
        monkeypatch.setenv("PATH", "/nonexistent")  # a machine without wkhtmltopdf
        with pytest.raises(printing.PrintFailed) as failed:
            inspections.form_pdf(s, form.id)
        assert "niet geïnstalleerd" in str(failed.value.message)
