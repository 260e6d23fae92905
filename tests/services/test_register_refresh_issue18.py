"""Issue 18, the nightly refresh of the vehicle register from RDW's open-data API, against
a local HTTP server that serves the sample files (admin_app/demo_data/register/) in the
API's JSON shape: lists of objects with the API's column names, values as text, a null
left out."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from admin_app.jobs.register import run_refresh
from admin_app.models import Passport, RegisterPlateAsked, RegisterRefresh
from admin_app.services import register_refresh
from admin_app.services.recalls import open_recalls
from admin_app.services.register import vehicle_facts
from admin_app.services.register_refresh import RdwApi, claim_night

SAMPLES = Path(__file__).resolve().parents[2] / "admin_app" / "demo_data" / "register"
FILES = {
    "m9d7-ebf2": "rdw-voertuigen-voorbeeld.csv",
    "8ys7-d773": "rdw-brandstof-voorbeeld.csv",
    "t49b-isb7": "rdw-terugroep-status-voorbeeld.csv",
    "j9yg-7rg9": "rdw-terugroep-acties-voorbeeld.csv",
}
# The column each dataset is asked by: recall details by reference, the others by plate.
KEYS = {"j9yg-7rg9": "referentiecode_rdw"}
TOKEN = "test-app-token"
NIGHT = dt.datetime(2026, 12, 7, 4, 30, tzinfo=dt.UTC)  # 05:30 Amsterdam
WHERE = re.compile(r"(kenteken|referentiecode_rdw) in \(('[0-9A-Z]+'(?:,'[0-9A-Z]+')*)\)")


class FakeRdw:
    """RDW's API as far as the refresh uses it; refuses what the real one would not
    answer as asked (a wrong token, no ``$where`` by plate or reference, no ``$order`` by
    that column)."""

    def __init__(self):
        self.data = {}
        for dataset_id, name in FILES.items():
            with open(SAMPLES / name, encoding="utf-8", newline="") as file:
                self.data[dataset_id] = [
                    {key: value for key, value in row.items() if value != ""}
                    for row in csv.DictReader(file)
                ]
        self.asked: list[tuple[str, list[str]]] = []  # (dataset id, plates or references)
        self.busy = 0  # how many requests to answer 429 first
        self.busy_on: dict[str, int] = {}  # the same, per dataset id
        self.broken = None  # an HTTP status to answer every request with
        self.slow = 0  # how many requests to answer only after a second first
        self.pages = None  # a hostile server: every page this many times $limit rows
        self.trickle = 0.0  # a hostile server: seconds between the bytes of an answer
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                params = {key: values[0] for key, values in parse_qs(url.query).items()}
                found = re.fullmatch(r"/resource/([0-9a-z-]+)\.json", url.path)
                where = WHERE.fullmatch(params.get("$where", ""))
                if self.headers.get("X-App-Token") != TOKEN:
                    return self._answer(403, {"message": "bad token"})
                if fake.broken:
                    return self._answer(fake.broken, {"message": "broken"})
                if fake.slow:
                    fake.slow -= 1
                    time.sleep(1)
                if fake.busy:
                    fake.busy -= 1
                    return self._answer(429, {"message": "slow down"}, {"Retry-After": "3"})
                if not found or found.group(1) not in fake.data or not where:
                    return self._answer(400, {"message": "bad query"})
                if fake.busy_on.get(found.group(1)):
                    fake.busy_on[found.group(1)] -= 1
                    return self._answer(429, {"message": "slow down"}, {"Retry-After": "2"})
                key = KEYS.get(found.group(1), "kenteken")
                if where.group(1) != key:
                    return self._answer(400, {"message": "bad query"})
                if not params.get("$order", "").startswith(key):
                    return self._answer(400, {"message": "no order"})
                wanted = re.findall(r"'([0-9A-Z]+)'", where.group(2))
                fake.asked.append((found.group(1), wanted))
                order = params["$order"].split(",")
                rows = sorted(
                    (row for row in fake.data[found.group(1)] if row[key] in wanted),
                    key=lambda row: [row.get(column, "") for column in order],
                )
                offset, limit = int(params.get("$offset", 0)), int(params["$limit"])
                if fake.pages and rows:
                    return self._answer(200, rows[:1] * int(limit * fake.pages))
                return self._answer(200, rows[offset : offset + limit])

            def _answer(self, status, body, headers=None):
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    if fake.trickle:
                        for byte in payload:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(fake.trickle)
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def vehicle(self, plate):
        return next(row for row in self.data["m9d7-ebf2"] if row["kenteken"] == plate)

    def plates_asked(self, dataset_id="m9d7-ebf2"):
        return [plate for asked, plates in self.asked if asked == dataset_id for plate in plates]


@pytest.fixture()
def rdw():
    fake = FakeRdw()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _hold(s, *plates):
    """Passports for sample plates (the demo's own cars have invented plates, which the
    register does not know), in the first demo passport's garage and owner."""
    first = s.scalars(select(Passport).order_by(Passport.id).limit(1)).one()
    held = set(s.scalars(select(Passport.plate)))
    s.add_all(
        Passport(garage_id=first.garage_id, owner_id=first.owner_id, plate=plate)
        for plate in plates
        if plate not in held
    )
    s.commit()


def _night(s, api, now=NIGHT):
    run = claim_night(s, now)
    s.commit()
    return run_refresh(s, run.id, api)


def test_issue18_refresh_asks_in_batches_of_100_and_applies_the_values(world, rdw):
    """Issue 18 (nightly refresh): every plate the console holds, once, in batches of at
    most 100 plates per request, with `$where`/`$order` and the app token; RDW's new APK
    date, a new second fuel and a new open recall replace the register's, a plate the
    register lacked (V31RPD vanished from the file) is added, and a plate RDW does not
    know keeps what the register had."""
    s = world.session
    _hold(s, "7ZTK17", "V31RPD", "GNKV03")
    rdw.vehicle("7ZTK17")["vervaldatum_apk"] = "20290115"
    rdw.data["8ys7-d773"].append(
        {
            "kenteken": "7ZTK17",
            "brandstof_volgnummer": "2",
            "brandstof_omschrijving": "Elektriciteit",
        }
    )
    rdw.data["t49b-isb7"].append(
        {"referentiecode_rdw": "RDW2026999", "kenteken": "7ZTK17", "code_status": "O"}
    )
    rdw.data["t49b-isb7"] = [
        row for row in rdw.data["t49b-isb7"] if row["kenteken"] != "GNKV03"
    ]  # GNKV03's recall was repaired: RDW lists none any more
    rdw.data["m9d7-ebf2"].append(
        {
            "kenteken": "V31RPD",
            "merk": "OPEL",
            "handelsbenaming": "CORSA",
            "vervaldatum_apk": "20280301",
            "datum_eerste_toelating": "20200301",
        }
    )
    assert open_recalls(s, ["GNKV03"])  # open before the refresh
    held = sorted(set(s.scalars(select(Passport.plate).where(Passport.state != "archived"))))

    run = _night(s, RdwApi(rdw.url, TOKEN))

    assert (run.state, run.plates, run.found, run.failed) == ("done", len(held), 3, 0)
    vehicles = rdw.plates_asked()
    assert sorted(vehicles) == held  # each plate once
    assert all(len(plates) <= 100 for _, plates in rdw.asked)
    by_plate = [asked for asked in rdw.asked if asked[0] not in KEYS]
    assert len(held) > 100 and len(by_plate) == 3 * -(-len(held) // 100)
    facts = vehicle_facts(s, ["7ZTK17", "V31RPD"])
    assert facts["7ZTK17"].apk_expiry == dt.date(2029, 1, 15)
    assert facts["7ZTK17"].fuel == "Benzine + Elektriciteit"
    assert facts["7ZTK17"].last_seen_on == dt.date(2026, 12, 7)
    assert (facts["V31RPD"].brand, facts["V31RPD"].model) == ("Opel", "Corsa")
    assert [r.reference for r in open_recalls(s, ["7ZTK17"])["7ZTK17"]] == ["RDW2026999"]
    assert open_recalls(s, ["GNKV03"]) == {}
    # A plate RDW does not know (the demo's invented ones) is remembered as not found.
    unknown = s.get(RegisterPlateAsked, held[0] if held[0] not in facts else held[-1])
    assert unknown.found is False


def test_issue18_a_plate_rdw_does_not_know_is_asked_again_after_a_week(world, rdw):
    """Issue 18: a plate the API did not know is asked weekly, not nightly; a known one
    every night; the night's run is claimed once."""
    s = world.session
    _hold(s, "7ZTK17")
    api = RdwApi(rdw.url, TOKEN)
    _night(s, api)
    unknown = {p for p in rdw.plates_asked() if p != "7ZTK17"}
    assert unknown
    assert claim_night(s, NIGHT + dt.timedelta(hours=2)) is None  # claimed already
    assert claim_night(s, NIGHT.replace(hour=1)) is None  # 02:00 Amsterdam: not yet due
    for days, asked_again in ((1, False), (6, False), (7, True)):
        rdw.asked.clear()
        _night(s, api, NIGHT + dt.timedelta(days=days, minutes=1))
        asked = set(rdw.plates_asked())
        assert "7ZTK17" in asked
        assert (unknown <= asked) is asked_again and (unknown & asked) == (
            unknown if asked_again else set()
        )


def test_issue18_refresh_waits_on_429_and_stops_without_half_a_batch(world, rdw):
    """Issue 18: 429 is retried after Retry-After; a refused request (a wrong token)
    stops the night with a run record saying why, and no batch is half applied."""
    s = world.session
    _hold(s, "7ZTK17")
    rdw.busy, rdw.slow = 1, 1
    pauses: list[float] = []
    run = _night(s, RdwApi(rdw.url, TOKEN, timeout=0.3, sleep=pauses.append))
    assert run.state == "done" and pauses == [1, 3.0]  # the timeout, then the 429

    rdw.vehicle("7ZTK17")["vervaldatum_apk"] = "20300101"
    rdw.broken = 500
    before = vehicle_facts(s, ["7ZTK17"])["7ZTK17"]
    failed = _night(s, RdwApi(rdw.url, TOKEN, sleep=pauses.append), NIGHT + dt.timedelta(days=1))
    assert (failed.state, failed.reason, failed.plates, failed.found) == (
        "failed",
        "unreachable",
        0,
        0,
    )
    assert failed.failed == 1  # 7ZTK17; the unknown plates wait their week
    assert pauses[2:] == [1, 2, 4, 8]
    assert vehicle_facts(s, ["7ZTK17"])["7ZTK17"] == before

    rdw.broken = None
    refused = _night(s, RdwApi(rdw.url, "wrong"), NIGHT + dt.timedelta(days=2))
    assert (refused.state, refused.reason, refused.reason_params) == (
        "failed",
        "refused",
        {"status": 403},
    )
    assert "403" in register_refresh.stopped_reason(refused)
    assert s.scalar(select(RegisterRefresh).order_by(RegisterRefresh.id.desc())).id == refused.id


def test_issue18_an_answer_longer_than_a_page_is_read_to_its_end(world, rdw, monkeypatch):
    """Issue 18: an answer of more rows than `$limit` is asked on with `$offset` (in
    `$order`), so no plate's fuel or recall is lost between pages."""
    s = world.session
    plates = ["7ZTK17", "36BLX7", "V83PPZ", "57BZD4", "GNKV03", "18RF82"]
    _hold(s, *plates)
    before = vehicle_facts(s, plates)
    recalls = open_recalls(s, plates)
    monkeypatch.setattr(register_refresh, "PAGE", 2)
    run = _night(s, RdwApi(rdw.url, TOKEN))
    assert (run.state, run.found) == ("done", len(plates))
    after = vehicle_facts(s, plates)
    assert {p: (f.fuel, f.apk_expiry, f.brand) for p, f in after.items()} == {
        p: (f.fuel, f.apk_expiry, f.brand) for p, f in before.items()
    }
    assert open_recalls(s, plates) == recalls


# --- recall details (dataset j9yg-7rg9) asked for the references a refresh brings -----

NEW_RECALL = {
    "referentiecode_rdw": "RDW2026999",
    "publicatiedatum_rdw": "20261130",
    "omschrijving_defect": "Gordelspanner kan blokkeren",
    "beschrijving_van_het_herstel": "De dealer vervangt de gordelspanner kosteloos.",
    "mogelijke_gevolgen": "Verhoogd letselrisico bij een aanrijding.",
}


def _recalled_by_rdw(rdw, plate, reference):
    rdw.data["t49b-isb7"].append(
        {"referentiecode_rdw": reference, "kenteken": plate, "code_status": "O"}
    )


def _profile_of(world, login_as, plate):
    car = world.session.scalars(select(Passport).where(Passport.plate == plate)).one()
    user = next(
        name
        for name in ("garage-jansen", "garage-devries")
        if world.user(name).garage_id == car.garage_id
    )
    page = login_as(user).get(f"/passports/show/{car.id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_issue18_a_new_recall_shows_its_details_on_the_profile_after_a_refresh(
    world, rdw, login_as
):
    """Issue 18 (nightly refresh, recall details): a recall status of a reference the
    register has no details for brings its description, remedy and consequences from
    j9yg-7rg9 in the same night (`$where=referentiecode_rdw in (…)`, ordered), shown on
    the profile; references the register knows (RDW2025101 of GNKV03) are not asked."""
    s = world.session
    _hold(s, "7ZTK17", "GNKV03")
    _recalled_by_rdw(rdw, "7ZTK17", "RDW2026999")
    rdw.data["j9yg-7rg9"].append(NEW_RECALL)
    assert NEW_RECALL["omschrijving_defect"] not in _profile_of(world, login_as, "7ZTK17")

    run = _night(s, RdwApi(rdw.url, TOKEN))

    assert run.state == "done"
    assert rdw.plates_asked("j9yg-7rg9") == ["RDW2026999"]  # once, the known one never
    (recall,) = open_recalls(s, ["7ZTK17"])["7ZTK17"]
    assert (recall.description, recall.remedy, recall.consequences, recall.published_on) == (
        NEW_RECALL["omschrijving_defect"],
        NEW_RECALL["beschrijving_van_het_herstel"],
        NEW_RECALL["mogelijke_gevolgen"],
        dt.date(2026, 11, 30),
    )
    profile = _profile_of(world, login_as, "7ZTK17")
    assert NEW_RECALL["omschrijving_defect"] in profile
    assert NEW_RECALL["beschrijving_van_het_herstel"] in profile

    rdw.asked.clear()
    _night(s, RdwApi(rdw.url, TOKEN), NIGHT + dt.timedelta(days=1))
    assert rdw.plates_asked("j9yg-7rg9") == []  # known now: not asked again


def test_issue18_a_reference_rdw_has_no_details_for_is_asked_weekly(world, rdw):
    """Issue 18: a reference RDW has no details for is asked on the night it shows up,
    then not nightly but in the weekly run (Sunday's, Amsterdam), when its details may
    have come."""
    s = world.session
    _hold(s, "7ZTK17")
    _recalled_by_rdw(rdw, "7ZTK17", "RDW2026999")
    api = RdwApi(rdw.url, TOKEN)
    asked = {}
    for days in range(7):  # Monday 7 to Sunday 13 December
        rdw.asked.clear()
        night = NIGHT + dt.timedelta(days=days)
        if days == 6:
            rdw.data["j9yg-7rg9"].append(NEW_RECALL)
        assert _night(s, api, night).state == "done"
        asked[night.date().isoformat()] = rdw.plates_asked("j9yg-7rg9")
    assert asked == {
        "2026-12-07": ["RDW2026999"],
        "2026-12-08": [],
        "2026-12-09": [],
        "2026-12-10": [],
        "2026-12-11": [],
        "2026-12-12": [],
        "2026-12-13": ["RDW2026999"],
    }
    (recall,) = open_recalls(s, ["7ZTK17"])["7ZTK17"]
    assert recall.description == NEW_RECALL["omschrijving_defect"]


def test_issue18_the_details_request_waits_on_429_and_is_never_half_applied(world, rdw):
    """Issue 18: a 429 on the details request is retried after Retry-After like the
    others; when it never answers, its batch (statuses included) is not applied, so no
    new recall shows without its details."""
    s = world.session
    _hold(s, "7ZTK17")
    _recalled_by_rdw(rdw, "7ZTK17", "RDW2026999")
    rdw.data["j9yg-7rg9"].append(NEW_RECALL)
    pauses: list[float] = []
    rdw.busy_on["j9yg-7rg9"] = register_refresh.ATTEMPTS
    failed = _night(s, RdwApi(rdw.url, TOKEN, sleep=pauses.append))
    assert (failed.state, failed.reason) == ("failed", "busy")
    assert pauses == [2.0] * (register_refresh.ATTEMPTS - 1)
    assert "7ZTK17" not in open_recalls(s, ["7ZTK17"])

    rdw.busy_on["j9yg-7rg9"] = 1
    pauses.clear()
    run = _night(s, RdwApi(rdw.url, TOKEN, sleep=pauses.append), NIGHT + dt.timedelta(days=1))
    assert run.state == "done" and pauses == [2.0]
    (recall,) = open_recalls(s, ["7ZTK17"])["7ZTK17"]
    assert recall.description == NEW_RECALL["omschrijving_defect"]


@pytest.mark.parametrize("pages", [1, 1.5])
def test_issue18_attack_an_answer_without_end_stops_the_night_as_garbled(world, rdw, pages):
    """Issue 18 (attack): an API that answers every page full (or longer than `$limit`)
    was asked on for ever, its rows piling up in the worker's memory; now a page longer
    than asked, or more than MAX_PAGES pages for one batch, stops the night, nothing of
    the batch applied."""
    s = world.session
    _hold(s, "7ZTK17")
    before = vehicle_facts(s, ["7ZTK17"])
    rdw.pages = pages
    run = _night(s, RdwApi(rdw.url, TOKEN))
    assert (run.state, run.reason, run.found) == ("failed", "garbled", 0)
    assert len(rdw.asked) <= register_refresh.MAX_PAGES
    assert vehicle_facts(s, ["7ZTK17"]) == before


def test_issue18_attack_values_that_are_no_text_are_garbled_not_written(world, rdw):
    """Issue 18 (attack): RDW's API gives every value as text (numbers too); a list or an
    object was written into the register as Python's "['A']" and "{'x': 1}"."""
    s = world.session
    _hold(s, "7ZTK17")
    before = vehicle_facts(s, ["7ZTK17"])
    rdw.vehicle("7ZTK17").update(merk=["A"], handelsbenaming={"x": 1})
    run = _night(s, RdwApi(rdw.url, TOKEN))
    assert (run.state, run.reason, run.found) == ("failed", "garbled", 0)
    assert vehicle_facts(s, ["7ZTK17"]) == before


def test_issue18_attack_an_answer_too_large_is_not_read_whole(world, rdw, monkeypatch):
    """Issue 18 (attack): an answer of a million rows was parsed whole into the worker's
    memory before anything looked at it; now an answer over MAX_ANSWER_BYTES (here shrunk
    to 100 bytes) stops the night as garbled, nothing applied."""
    s = world.session
    _hold(s, "7ZTK17")
    before = vehicle_facts(s, ["7ZTK17"])
    monkeypatch.setattr(register_refresh, "MAX_ANSWER_BYTES", 100)
    run = _night(s, RdwApi(rdw.url, TOKEN))
    assert (run.state, run.reason, run.found) == ("failed", "garbled", 0)
    assert vehicle_facts(s, ["7ZTK17"]) == before


def test_issue18_attack_an_answer_trickling_in_is_given_up(world, rdw, monkeypatch):
    """Issue 18 (attack): the timeout is per socket read, so a server sending a byte at a
    time kept one request (and the worker, and every mail behind it) busy for as long as
    it liked; now an answer not whole after ANSWER_SECONDS (here 0.5 s) is a timeout,
    retried and then given up as unreachable, nothing applied."""
    s = world.session
    _hold(s, "7ZTK17")
    before = vehicle_facts(s, ["7ZTK17"])
    monkeypatch.setattr(register_refresh, "ANSWER_SECONDS", 0.5)
    rdw.trickle = 0.05  # a page of a few hundred bytes would take tens of seconds
    started = time.monotonic()
    run = _night(s, RdwApi(rdw.url, TOKEN, timeout=5, sleep=lambda pause: None))
    assert (run.state, run.reason, run.found) == ("failed", "unreachable", 0)
    assert time.monotonic() - started < 15
    assert vehicle_facts(s, ["7ZTK17"]) == before


def test_issue18_attack_a_night_that_stops_is_continued_not_begun_again(world, rdw, monkeypatch):
    """Issue 18 (attack): every night began at the same first plates; an API that is slow
    or refuses after a while (or the job's hour running out on a large console) left the
    plates late in the alphabet never refreshed. The next night begins where the last
    stopped: never asked first, then the longest ago."""
    from admin_app.services.register_refresh import ApiFailed, plates_due

    s = world.session
    plates = ["7ZTK17", "36BLX7", "V83PPZ", "57BZD4", "GNKV03", "18RF82"]
    _hold(s, *plates)
    # Only plates RDW knows: an unknown one waits its week anyway.
    s.execute(update(Passport).where(Passport.plate.not_in(plates)).values(state="archived"))
    s.commit()
    monkeypatch.setattr(register_refresh, "BATCH", 2)
    order = plates_due(s, NIGHT)

    class Stopping(RdwApi):
        calls = 0

        def rows(self, dataset, plates):
            if self.calls >= 2 * 3:  # two batches of three datasets, then it stops
                raise ApiFailed("busy", attempts=5)
            self.calls += 1
            return super().rows(dataset, plates)

    first = _night(s, Stopping(rdw.url, TOKEN))
    assert (first.state, first.plates) == ("failed", 4)
    rdw.asked.clear()
    second = _night(s, RdwApi(rdw.url, TOKEN), NIGHT + dt.timedelta(days=1))
    assert second.state == "done"
    assert rdw.plates_asked()[:2] == order[4:6]
