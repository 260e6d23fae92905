"""The nightly refresh of the vehicle register from RDW's open-data API (issue 18).

Every night (RUN_HOUR Amsterdam, claimed once per night by a ``register_refresh`` row)
the worker asks RDW's API about the plates the console holds — every garage's passports
that are not archived, each plate once — 100 plates per request
(``$where=kenteken in (…)``, ``$order=kenteken``), in the datasets registered vehicles,
fuel and recall status. ``datum_tenaamstelling`` changes with a new holder, not after an
APK, so nothing tells which plates changed: every plate is asked, but a plate the API
did not know is asked again only after a week.

After a batch's recall statuses are in, the recall details (what the recall is about) are
asked for the references they bring that the register's details lack, 100 references
per request (``$where=referentiecode_rdw in (…)``): a new recall shows with its
description the morning after, without waiting for Admin's details file. A reference RDW
has no details for is asked on the night it first shows up and then weekly.

A batch is applied in one transaction (the job, jobs/register, commits it), after all its
answers are in: the plates' rows in the generation readers see are replaced (DESIGN-NOTES
"The vehicle register"), so a reader sees a plate as it was or as RDW has it now, never
half; a batch whose answers did not all come is not applied, and the run stops there (the
plates not reached are asked the next night). The details go into the same transaction
as their batch: a status whose details were asked is shown with them or not at all, never
an open recall whose description follows a batch later. 429 and server errors are
retried after Retry-After or a growing pause.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.clock import AMSTERDAM, local_today
from admin_app.models import Passport, PassportState, Recall, RecallDetail
from admin_app.models.base import utcnow
from admin_app.models.register import Dataset, current_generation
from admin_app.models.register_refresh import RegisterPlateAsked, RegisterRefresh
from admin_app.services.register_import import TABLES, WRITTEN, clean_records

log = logging.getLogger(__name__)

RUN_HOUR = 4  # Amsterdam: after RDW's nightly update, before the 07:00 APK reminders
BATCH = 100  # plates per request
PAGE = 1000  # rows per request: 100 plates have a few fuels or recalls each at most
# Pages asked for one batch at most: an answer that never ends (a broken or hostile
# server answering every page full) would otherwise pile up in the worker's memory.
MAX_PAGES = 10
# Bytes of one answer at most: a page of 1,000 rows is ~0.5 MB; a server answering a
# million rows must not be parsed whole into the worker's memory before it is refused.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# Seconds one answer may take to arrive whole: the timeout is per socket read, so a
# server sending a byte at a time held the worker (and every mail behind it) for hours.
ANSWER_SECONDS = 120
NOT_FOUND_AGAIN = dt.timedelta(days=7)  # a plate the API did not know is asked weekly
ATTEMPTS = 5  # per request, on 429, a server error or a timeout
MAX_PAUSE = 120  # seconds: a longer Retry-After is not waited for in one night's run
STALE = dt.timedelta(hours=6)  # a run still "running" after this: its worker went away

# The datasets asked by plate: RDW's dataset ids, and how each answer is ordered
# (kenteken first, then what makes a row unique, so pages of one answer neither repeat
# nor skip a row).
DATASETS = {
    Dataset.vehicles.value: ("m9d7-ebf2", "kenteken"),
    Dataset.fuel.value: ("8ys7-d773", "kenteken,brandstof_volgnummer"),
    Dataset.recall_status.value: ("t49b-isb7", "kenteken,referentiecode_rdw"),
}
# The columns asked for: the ones the import reads.
COLUMNS = {
    Dataset.vehicles.value: (
        "kenteken,merk,handelsbenaming,vervaldatum_apk,datum_eerste_toelating,voertuigsoort,"
        "datum_tenaamstelling,eerste_kleur,inrichting,aantal_zitplaatsen,catalogusprijs"
    ),
    Dataset.fuel.value: "kenteken,brandstof_volgnummer,brandstof_omschrijving",
    Dataset.recall_status.value: "referentiecode_rdw,kenteken,code_status",
    Dataset.recall_details.value: (
        "referentiecode_rdw,publicatiedatum_rdw,omschrijving_defect,"
        "beschrijving_van_het_herstel,mogelijke_gevolgen"
    ),
}
# Recall details are asked by reference, not by plate: one row per reference.
RECALL_DETAILS = ("j9yg-7rg9", "referentiecode_rdw")
# A reference RDW has no details for is asked again only in the run of this weekday (the
# run's Amsterdam date: Sunday, 04:00). Remembering when each reference was asked would
# need a table of its own; a fixed day asks it at most weekly, as the plates' rule does.
DETAILS_AGAIN_ON = 6  # date.weekday()

# Why a night's run stopped, as codes with parameters (the worker has no reader; the
# register page says them in the reader's language).
REASONS = {
    "refused": _l("RDW's API refused the request (HTTP %(status)s): check RDW_APP_TOKEN."),
    "unreachable": _l("RDW's API did not answer after %(attempts)s attempts."),
    "busy": _l("RDW's API kept asking to wait (HTTP 429) after %(attempts)s attempts."),
    "garbled": _l("RDW's API answered something that is not a list of vehicles."),
    "failed": _l("The refresh stopped on a technical error; the worker's log has the details."),
    "gone": _l("The worker stopped during the refresh."),
}


class ApiFailed(Exception):
    """A request that did not give an answer after its attempts; ``reason`` is a code of
    REASONS."""

    def __init__(self, reason: str, **params):
        super().__init__(reason, params)
        self.reason, self.params = reason, params


class RdwApi:
    """RDW's open-data API (Socrata): ``rows(dataset, plates)`` are the API's rows for
    those plates, every page of them. ``sleep`` is the pause between attempts (tests
    pass one that does not wait)."""

    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        timeout: float = 30,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.sleep = sleep

    @classmethod
    def from_config(cls, config) -> RdwApi | None:
        """The API the settings name, or None when the refresh is off (no RDW_API_URL)."""
        if not config.get("RDW_API_URL"):
            return None
        return cls(config["RDW_API_URL"], config["RDW_APP_TOKEN"])

    def rows(self, dataset: str, plates: list[str]) -> list[dict]:
        dataset_id, order = DATASETS[dataset]
        # Plates are normalized (letters and digits only): nothing to escape.
        where = "kenteken in ({})".format(",".join(f"'{plate}'" for plate in plates))
        return self._all_pages(dataset_id, COLUMNS[dataset], where, order)

    def recall_details(self, references: list[str]) -> list[dict]:
        """The details RDW has of these references (any number: asked BATCH at a time)."""
        dataset_id, order = RECALL_DETAILS
        found: list[dict] = []
        for batch in batches(references):
            # A reference is RDW's text: a quote in it is doubled, as SoQL escapes it.
            where = "referentiecode_rdw in ({})".format(
                ",".join("'{}'".format(reference.replace("'", "''")) for reference in batch)
            )
            found += self._all_pages(
                dataset_id, COLUMNS[Dataset.recall_details.value], where, order
            )
        return found

    def _all_pages(self, dataset_id: str, columns: str, where: str, order: str) -> list[dict]:
        found: list[dict] = []
        while True:
            page = self._get(
                dataset_id,
                {
                    "$select": columns,
                    "$where": where,
                    "$order": order,
                    "$limit": PAGE,
                    "$offset": len(found),
                },
            )
            found += page
            if len(page) < PAGE:
                return found
            if len(found) >= MAX_PAGES * PAGE:
                raise ApiFailed("garbled")

    def _get(self, dataset_id: str, params: dict) -> list[dict]:
        url = f"{self.base_url}/resource/{dataset_id}.json?{urllib.parse.urlencode(params)}"
        headers = {"Accept": "application/json"}
        if self.token:
            headers["X-App-Token"] = self.token
        last = ApiFailed("unreachable", attempts=ATTEMPTS)
        pause = 0.0
        for attempt in range(ATTEMPTS):
            if attempt:
                self.sleep(pause)
            pause = min(2**attempt, MAX_PAUSE)  # 1, 2, 4, 8 s unless Retry-After says
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=self.timeout
                ) as answer:
                    body = _read_answer(answer)
                if len(body) > MAX_ANSWER_BYTES:
                    raise ApiFailed("garbled")
                data = json.loads(body)
            except urllib.error.HTTPError as error:
                if error.code == 429:
                    last = ApiFailed("busy", attempts=ATTEMPTS)
                    pause = _retry_after(error.headers.get("Retry-After"), pause)
                elif error.code < 500:
                    raise ApiFailed("refused", status=error.code) from error
                log.warning(
                    "RDW API: HTTP %s from %s (attempt %s of %s)",
                    error.code,
                    dataset_id,
                    attempt + 1,
                    ATTEMPTS,
                )
                continue
            except (OSError, ValueError) as error:  # timeouts, resets, a cut-off answer
                log.warning(
                    "RDW API: %s from %s (attempt %s of %s)",
                    error,
                    dataset_id,
                    attempt + 1,
                    ATTEMPTS,
                )
                last = ApiFailed("unreachable", attempts=ATTEMPTS)
                continue
            # The API answers a list of objects, every value text (numbers too) or left
            # out, never more rows than asked; anything else would be written as garbage.
            if (
                not isinstance(data, list)
                or len(data) > params["$limit"]
                or not all(isinstance(row, dict) and _plain(row) for row in data)
            ):
                raise ApiFailed("garbled")
            return data
        raise last


def _read_answer(answer) -> bytes:
    """The answer's body, up to MAX_ANSWER_BYTES + 1 bytes (more is refused by the
    caller) and within ANSWER_SECONDS (else a TimeoutError, retried as a timeout is)."""
    deadline = time.monotonic() + ANSWER_SECONDS
    body = bytearray()
    while len(body) <= MAX_ANSWER_BYTES:
        piece = answer.read1(64 * 1024)
        if not piece:
            break
        body += piece
        if time.monotonic() > deadline:
            raise TimeoutError(f"answer not complete after {ANSWER_SECONDS} s")
    return bytes(body[: MAX_ANSWER_BYTES + 1])


def _plain(row: dict) -> bool:
    """Every value of an answer's row is text, a number or null (not a list or an object,
    which would be written as Python's repr)."""
    return all(
        value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))
        for value in row.values()
    )


def _retry_after(value: str | None, otherwise: float) -> float:
    """Retry-After in seconds, at most MAX_PAUSE; its HTTP-date form (rare) and a
    missing one wait the growing pause instead."""
    if value is None:
        return otherwise
    try:
        return min(max(float(value), 0), MAX_PAUSE)
    except (TypeError, ValueError):
        return otherwise


# --- the night's run -----------------------------------------------------------------


def claim_night(session: Session, now: dt.datetime) -> RegisterRefresh | None:
    """Tonight's run, claimed for this worker after RUN_HOUR Amsterdam; None when not due
    or claimed already. Flushes; the caller commits and hands the run to the worker."""
    if now.astimezone(AMSTERDAM).hour < RUN_HOUR:
        return None
    today = local_today(now)
    if session.scalar(select(RegisterRefresh.id).where(RegisterRefresh.day == today)):
        return None
    run = RegisterRefresh(day=today, state="queued", plates=0, found=0, failed=0, started_at=now)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None  # another worker claimed it
    return run


def plates_due(session: Session, now: dt.datetime) -> list[str]:
    """The plates the console holds, each once, the longest unasked first (never asked,
    then by the night last asked, then by plate): a night that stops (a slow or refusing
    API, the job's time up) is continued the next night, not begun again at the same
    plates, which would leave the plates late in the alphabet never refreshed. A plate
    the API did not know less than a week ago waits for its week."""
    # IS FALSE, not = false: a plate never asked (no row, NULL) is due.
    unknown_lately = and_(
        RegisterPlateAsked.found.is_(False),
        RegisterPlateAsked.asked_at > now - NOT_FOUND_AGAIN,
    )
    # One row per plate (the asked row's plate is its key): max() only groups.
    asked_at = func.max(RegisterPlateAsked.asked_at)
    return list(
        session.scalars(
            select(Passport.plate)
            .outerjoin(RegisterPlateAsked, RegisterPlateAsked.plate == Passport.plate)
            .where(Passport.state != PassportState.archived.value, ~unknown_lately)
            .group_by(Passport.plate)
            .order_by(asked_at.is_not(None), asked_at, Passport.plate)
        )
    )


def claim(session: Session, refresh_id: int) -> bool:
    """A queued run taken by this worker; False when another delivery of the job took it
    (rq delivers at least once). The job commits the claim before it asks anything."""
    claimed = changed_rows(
        session.execute(
            update(RegisterRefresh)
            .where(RegisterRefresh.id == refresh_id, RegisterRefresh.state == "queued")
            .values(state="running")
        )
    )
    return bool(claimed)


def ask_batch(api: RdwApi, batch: list[str]) -> dict[str, list[dict]]:
    """RDW's answers for one batch of plates, every dataset asked by plate."""
    return {dataset: api.rows(dataset, batch) for dataset in DATASETS}


def batches(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


def details_wanted(session: Session, answers: dict, now: dt.datetime) -> list[str]:
    """The references of a batch's recall statuses whose details the register lacks, in
    order. One the register's statuses held already (RDW had no details for it when it
    showed up, or a status file brought it) waits for DETAILS_AGAIN_ON."""
    today = local_today(now)
    brought = {row[2] for row in _cleaned(session, Dataset.recall_status.value, answers, today)}
    if not brought:
        return []
    missing = brought - set(
        session.scalars(
            select(RecallDetail.reference).where(
                RecallDetail.generation == current_generation(Dataset.recall_details.value),
                RecallDetail.reference.in_(brought),
            )
        )
    )
    if missing and today.weekday() != DETAILS_AGAIN_ON:
        missing -= set(
            session.scalars(
                select(Recall.reference).where(
                    Recall.generation == current_generation(Dataset.recall_status.value),
                    Recall.reference.in_(missing),
                )
            )
        )
    return sorted(missing)


def apply_batch(session: Session, batch: list[str], answers: dict, now: dt.datetime) -> int:
    """One batch's answers into the register readers see, in the caller's transaction:
    the rows of the plates RDW knows are replaced (their fuels and recall statuses with
    them: none listed means none any more); a plate it does not know keeps what the
    register had. Returns how many plates RDW knew."""
    today = local_today(now)
    vehicles = _cleaned(session, Dataset.vehicles.value, answers, today)
    known = sorted({row[1] for row in vehicles} & set(batch))
    for dataset in DATASETS:
        table = TABLES[dataset]
        generation = session.scalar(select(current_generation(dataset)))
        rows = (
            vehicles
            if dataset == Dataset.vehicles.value
            else _cleaned(session, dataset, answers, today)
        )
        rows = [(generation, *row[1:]) for row in rows if row[1] in known]
        session.execute(
            delete(table).where(table.c.generation == generation, table.c.plate.in_(known))
        )
        if rows:
            _insert(session, dataset, rows)
    _apply_details(session, answers, today)
    session.execute(delete(RegisterPlateAsked).where(RegisterPlateAsked.plate.in_(batch)))
    session.add_all(
        RegisterPlateAsked(plate=plate, asked_at=now, found=plate in known) for plate in batch
    )
    session.flush()
    return len(known)


def _apply_details(session: Session, answers: dict, today: dt.date) -> None:
    """The recall details RDW gave into the generation readers see, as the refresh writes
    the other datasets: a reference's row replaced (a details file imported since the
    references were chosen may hold it already; RDW's answer is as new)."""
    rows = _cleaned(session, Dataset.recall_details.value, answers, today)
    if not rows:
        return
    table = TABLES[Dataset.recall_details.value]
    generation = session.scalar(select(current_generation(Dataset.recall_details.value)))
    session.execute(
        delete(table).where(
            table.c.generation == generation, table.c.reference.in_([row[1] for row in rows])
        )
    )
    _insert(session, Dataset.recall_details.value, [(generation, *row[1:]) for row in rows])


def _insert(session: Session, dataset: str, rows: list[tuple]) -> None:
    # Plain SQL: the cleaned values are text as a file's are (dates in ISO), which the
    # ORM's Date type would refuse on SQLite.
    columns = WRITTEN[dataset]
    session.execute(
        text(
            f"INSERT INTO {TABLES[dataset].name} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + column for column in columns)})"
        ),
        [dict(zip(columns, row, strict=True)) for row in rows],
    )


def _cleaned(session: Session, dataset: str, answers: dict, today: dt.date) -> list[tuple]:
    # The generation is put in by apply_batch, per dataset.
    return clean_records(session, dataset, answers[dataset], generation=0, today=today)


def end(
    session: Session,
    run: RegisterRefresh,
    state: str,
    failed: int,
    reason: str | None = None,
    params: dict | None = None,
) -> None:
    """The run's outcome, read afresh (after the caller's rollback of a failed batch);
    the caller commits it."""
    session.expire_all()
    run = session.get_one(RegisterRefresh, run.id)
    run.state, run.failed = state, failed
    run.reason, run.reason_params = reason, params or None
    run.finished_at = utcnow()
    session.flush()


# --- what the register page shows ------------------------------------------------------


def last_refresh(session: Session) -> RegisterRefresh | None:
    return session.scalar(select(RegisterRefresh).order_by(RegisterRefresh.day.desc()).limit(1))


def stopped_reason(run: RegisterRefresh, now: dt.datetime | None = None) -> str | None:
    """Why ``run`` stopped, in the reader's language; a run its worker left behind
    (still running after STALE) says so."""
    if run.state in ("queued", "running") and run.started_at < (now or utcnow()) - STALE:
        return str(REASONS["gone"])
    message = REASONS.get(run.reason or "")
    if message is None:
        return run.reason
    return str(message) % (run.reason_params or {}) if run.reason_params else str(message)
