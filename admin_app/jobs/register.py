"""The vehicle register's jobs (issue 18): an import of RDW's files (rq, and `flask
register-import` and the demo data through import_now) and the nightly refresh from
RDW's API.

These own the transactions; the services' steps only write. An import commits after each
step, so its rows arrive a chunk at a time unseen and the switch is one commit of its
own; a refresh commits each batch whole and holds no transaction open while RDW's API
is asked.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from admin_app.domain.clock import local_today
from admin_app.extensions import db
from admin_app.jobs.progress import progress_reporter
from admin_app.models import RegisterImport
from admin_app.models.register import Dataset, ImportState
from admin_app.models.register_refresh import RegisterRefresh
from admin_app.services import register_import, register_refresh
from admin_app.services.audit import Actor

log = logging.getLogger(__name__)


# --- an import of a register file -------------------------------------------------------


def import_register(import_id: int) -> None:
    """Safe to run twice: only the first claim of a queued import runs it."""
    try:
        run_import(db.session, import_id)  # logs a failure itself
    finally:
        db.session.rollback()
        _forget_upload(db.session.get(RegisterImport, import_id))


def import_now(
    session: Session, path: Path, *, actor: Actor, today: dt.date | None = None
) -> RegisterImport:
    """A file imported in this process with the worker's code: `flask register-import`
    (the full bulk download is 7-10 GB, no upload) and the demo data."""
    run = register_import.create_import(
        session, path=Path(path), file_name=Path(path).name, actor=actor
    )
    session.commit()
    run_import(session, run.id, today=today)
    session.expire_all()
    return session.get_one(RegisterImport, run.id)


def run_import(session: Session, import_id: int, *, today: dt.date | None = None) -> None:
    """The worker's part (and ``flask register-import``'s): safe to deliver twice, as only
    the first claim of a queued import runs it. A refused or failed import ends with its
    reason and its rows deleted unseen; a failure is logged and raised."""
    claimed = register_import.claim(session, import_id)
    session.commit()
    if not claimed:
        return
    run = session.get_one(RegisterImport, import_id)
    try:
        _import(session, run, today or local_today())
    except Exception as error:
        session.rollback()
        state, reason, params = register_import.outcome_of(error)
        if state is ImportState.failed:
            log.exception("register import %s failed", import_id)
        register_import.end(session, run, state, reason, params)
        session.commit()
        if state is ImportState.failed:
            raise


def _import(session: Session, run: RegisterImport, today: dt.date) -> None:
    header = register_import.check_not_busy(session, run)
    session.commit()
    began = time.perf_counter()
    into = register_import.rows_table(session, run)
    session.commit()
    run_id = run.id
    with progress_reporter(session.get_bind(), register_import.set_progress) as report:
        steps = register_import.write_rows(
            session, run, header, into, today, lambda *done: report(run_id, *done)
        )
        for _written in steps:
            session.commit()
    written = time.perf_counter()
    register_import.switch(session, run, into)
    session.commit()  # the switch: from here on, readers see this generation
    switched = time.perf_counter()
    register_import.purge_old(session, run)
    session.commit()
    log.info(
        "register import %s (%s): %s rows written in %.1f s, %s kept and switched in "
        "%.1f s, old generation purged in %.1f s",
        run.id,
        run.dataset,
        run.rows,
        written - began,
        run.kept,
        switched - written,
        time.perf_counter() - switched,
    )


def _forget_upload(run: RegisterImport | None) -> None:
    """An uploaded file is removed once imported (it may be 200 MB); a file given to the
    command is not the console's to remove."""
    if run is None or run.state in ("queued", "running"):
        return
    folder = Path(current_app.config["REGISTER_UPLOAD_FOLDER"]).resolve()
    path = Path(run.path).resolve()
    if folder in path.parents:
        path.unlink(missing_ok=True)


# --- the nightly refresh from RDW's API -------------------------------------------------


def refresh_register(refresh_id: int) -> None:
    """A night's refresh from RDW's API, claimed by the clock; safe to run twice."""
    api = register_refresh.RdwApi.from_config(current_app.config)
    if api is None:  # switched off between the claim and now
        return
    try:
        run_refresh(db.session, refresh_id, api)  # logs a failure itself
    finally:
        db.session.rollback()


def run_refresh(
    session: Session, refresh_id: int, api: register_refresh.RdwApi
) -> RegisterRefresh | None:
    """The worker's part: safe to deliver twice (only the first claim of a queued run
    runs it). Commits a batch at a time; a batch whose answers did not all come is not
    applied, and the run stops there."""
    claimed = register_refresh.claim(session, refresh_id)
    session.commit()
    run = session.get(RegisterRefresh, refresh_id)
    if not claimed or run is None:
        return run
    now = run.started_at  # the claim's: the night the plates are asked on
    plates = register_refresh.plates_due(session, now)
    session.commit()  # no transaction stays open while the API is asked
    done = 0
    try:
        for batch in register_refresh.batches(plates):
            answers = register_refresh.ask_batch(api, batch)
            references = register_refresh.details_wanted(session, answers, now)
            session.commit()  # the read above: no transaction stays open while asking
            answers[Dataset.recall_details.value] = (
                api.recall_details(references) if references else []
            )
            run.found += register_refresh.apply_batch(session, batch, answers, now)
            run.plates += len(batch)
            session.commit()
            done += len(batch)
    except register_refresh.ApiFailed as failure:
        session.rollback()
        log.error(
            "register refresh %s stopped: %s %s; %s of %s plates refreshed, the other %s "
            "are asked next night",
            run.id,
            failure.reason,
            failure.params,
            done,
            len(plates),
            len(plates) - done,
        )
        register_refresh.end(
            session, run, "failed", len(plates) - done, failure.reason, failure.params
        )
        session.commit()
        return run
    except Exception:
        session.rollback()
        log.exception("register refresh %s failed after %s plates", run.id, done)
        register_refresh.end(session, run, "failed", len(plates) - done, "failed")
        session.commit()
        raise
    register_refresh.end(session, run, "done", 0)
    session.commit()
    log.info("register refresh %s: %s plates asked, %s found", run.id, run.plates, run.found)
    return run
