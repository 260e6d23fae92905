"""Building the ZIP in the worker: claiming the build once, writing the sections into
``gegevens.json`` and ``overzicht.html`` (and the forms' PDFs), and marking it ready or
failed. Progress is written for the page that polls it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import func, or_, update
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.domain.clock import local_datetime
from admin_app.models import DataExport, Garage
from admin_app.models.data_exports import BUILDING, FAILED, PERSON, READY
from admin_app.services.data_exports.asking import LIFETIME, STALE_AFTER
from admin_app.services.data_exports.contents import SECTIONS, forms_statement, is_his_form, stream
from admin_app.services.data_exports.subject import subject_of

SUMMARY_NAME, DATA_NAME, FORMS_FOLDER = "overzicht.html", "gegevens.json", "inspectieformulieren"


def claim(session: Session, export_id: int, now: dt.datetime) -> bool:
    """Take a waiting export for this worker; False when it is built, failed, or being
    built by another live worker (rq delivers at least once). The job commits the claim
    before it builds."""
    claimed = changed_rows(
        session.execute(
            update(DataExport)
            .where(
                DataExport.id == export_id,
                DataExport.state == BUILDING,
                or_(DataExport.claimed_at.is_(None), DataExport.claimed_at < now - STALE_AFTER),
            )
            .values(claimed_at=now, progress=0)
        )
    )
    return bool(claimed)


def set_progress(session: Session, export_id: int, percent: int) -> None:
    """Written in a session of its own, which the job commits at once (jobs/progress): the
    page polls it while the building session still reads."""
    session.execute(update(DataExport).where(DataExport.id == export_id).values(progress=percent))


def finish(
    session: Session, export_id: int, file_path: str, now: dt.datetime, folder: str | None = None
) -> bool:
    """The export is ready, its 7 days counted from now; False (and the file deleted) when
    it is no longer being made: an erase of its person failed it while this build, which
    read him before, was writing his data."""
    finished = changed_rows(
        session.execute(
            update(DataExport)
            .where(DataExport.id == export_id, DataExport.state == BUILDING)
            .values(
                state=READY,
                progress=100,
                file_path=file_path,
                ready_at=now,
                expires_at=now + LIFETIME,
            )
        )
    )
    if not finished:
        if folder is None:
            from flask import current_app

            folder = current_app.config["DATA_EXPORT_FOLDER"]
        (Path(folder) / file_path).unlink(missing_ok=True)
    return bool(finished)


def fail(session: Session, export_id: int) -> None:
    # No error text: it could quote his data; the worker's log has the traceback.
    session.execute(update(DataExport).where(DataExport.id == export_id).values(state=FAILED))


def fail_lost_builds(session: Session, now: dt.datetime) -> int:
    """Exports still "being made" long after their build was claimed (or asked, if no
    worker took it): the worker was lost with them and nobody queues them again. Failed,
    so the requester's page says to ask again rather than waiting for ever. Flushes."""
    lost = changed_rows(
        session.execute(
            update(DataExport)
            .where(
                DataExport.state == BUILDING,
                func.coalesce(DataExport.claimed_at, DataExport.created_at) < now - STALE_AFTER,
            )
            .values(state=FAILED)
            .execution_options(synchronize_session=False)
        )
    )
    return lost


def write_export(
    session: Session,
    export_id: int,
    folder: str,
    *,
    with_pdfs: bool,
    progress: Callable[[int], None] = lambda percent: None,
) -> str:
    """Write the export's ZIP under ``folder`` and return its name there. Each section is
    streamed from the database into the ZIP, so a long history never sits in memory.
    Runs inside an app and request context (templates, Dutch words), unscoped."""
    export = session.get_one(DataExport, export_id)
    subject = subject_of(session, export)
    name = f"data-export-{export.id}.zip"
    Path(folder).mkdir(parents=True, exist_ok=True)
    partial = Path(folder) / f"{name}.part"
    steps = len(SECTIONS) * 2 + (1 if with_pdfs else 0)
    done = 0

    def step():
        nonlocal done
        done += 1
        progress(min(99, 100 * done // steps))

    try:
        with force_locale("nl"), zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(DATA_NAME, "w") as out:
                _write_json(session, export, subject, out, step)
            pdfs_missing = False
            if with_pdfs:
                _write_pdfs(session, subject, archive)
                step()
            else:
                pdfs_missing = bool(_count_forms(session, subject))
            with archive.open(SUMMARY_NAME, "w") as out:
                _write_summary(session, export, subject, out, step, pdfs_missing=pdfs_missing)
    except BaseException:
        # Half a ZIP of his data must not stay on disk, where no expiry would find it.
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, Path(folder) / name)
    return name


def _json_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _write_json(session, export, subject, out, step) -> None:
    def write(text: str):
        out.write(text.encode("utf-8"))

    meta = {"export_id": export.id, "created_at": export.created_at, "scope": export.scope}
    write('{"export": ' + json.dumps(meta, default=_json_value, ensure_ascii=False))
    for section in SECTIONS:
        write(f', "{section.key}": [')
        for i, row in enumerate(section.rows(session, subject)):
            write(("," if i else "") + json.dumps(row, default=_json_value, ensure_ascii=False))
        write("]")
        step()
    write("}\n")


def _count_forms(session, subject) -> int:
    return sum(
        1 for (form,) in stream(session, forms_statement(subject)) if is_his_form(form, subject)
    )


def _write_pdfs(session, subject, archive) -> None:
    from admin_app.services.inspections import print_html
    from admin_app.services.printing import html_to_pdf

    for (form,) in stream(session, forms_statement(subject)):
        if not is_his_form(form, subject):
            continue
        pdf = html_to_pdf(print_html(session, form))
        archive.writestr(
            f"{FORMS_FOLDER}/{form.inspection_date.isoformat()}-{form.plate}-{form.id}.pdf", pdf
        )


def _write_summary(session, export, subject, out, step, *, pdfs_missing: bool) -> None:
    from flask import current_app

    def sections():
        for section in SECTIONS:
            rows = (
                [column.shown(row.get(column.key)) for column in section.columns]
                for row in section.rows(session, subject)
            )
            yield section, rows
            step()

    template = current_app.jinja_env.get_template("console/data_export_summary.html")
    for chunk in template.generate(
        export=export,
        everywhere=export.scope == PERSON,
        # Which garage: the owner reads the file far from the screen that made it.
        garage=session.get(Garage, export.garage_id).name if export.garage_id else None,
        created=local_datetime(export.created_at),
        sections=sections(),
        pdfs_missing=pdfs_missing,
    ):
        out.write(chunk.encode("utf-8"))
