"""Benchmark: printing an inspection form (issue 6), 100 forms back to back.

    .venv/bin/python bench/pdf.py        (SQLite in a temporary folder; wkhtmltopdf needed)

A two-page form: 40+ checkpoints (some with remarks), 6 advice items, performed work.
Reports median, p95 and the renderer's peak memory (children's max RSS).
"""

from __future__ import annotations

import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMS = int(os.environ.get("BENCH_FORMS", "100"))


def main() -> None:
    # A throwaway database needs no lasting key (development would read instance/secret_key,
    # which only `make run` makes); one for this run, shared by its child processes.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(64))
    folder = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    flask = [sys.executable, "-m", "flask", "--app", "admin_app:create_app"]
    for command in (["db", "upgrade"], ["sync-roles"], ["demo-data"]):
        subprocess.run([*flask, *command], check=True, cwd=ROOT, capture_output=True)
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app

    app = create_app()
    with app.app_context():
        from admin_app.db import unit_of_work
        from admin_app.extensions import db
        from admin_app.models import Passport
        from admin_app.services import inspections
        from admin_app.services.audit import Actor

        passport = db.session.query(Passport).filter_by(state="activated").first()
        actor = Actor(None, "bench", roles=frozenset({"Garage"}), garage_id=passport.garage_id)
        with unit_of_work(db.session, actor):
            form = inspections.create_draft(
                db.session,
                kind="all_ok",
                actor=actor,
                inspector="Bench",
                inspection_date=time.strftime("%Y-%m-%d"),
                passport_id=passport.id,
            )
            results = [
                {**r, "status": "advice", "remark": "Controleren bij volgende beurt " * 2}
                for r in form.content["results"][::5]
            ]
            advice = [{"description": f"Adviespunt {i}", "price": f"{i * 37},50"} for i in range(6)]
            inspections.update_form(
                db.session, form.id, {"results": results, "advice": advice}, actor=actor
            )
            inspections.save_form(db.session, form.id, actor=actor)
            inspections.add_performed_work(
                db.session, form.id, description="Olie ververst", done_on=None, actor=actor
            )
        timings = []
        pages = 0
        for _ in range(FORMS):
            started = time.perf_counter()
            _, pdf = inspections.form_pdf(db.session, form.id)
            timings.append(time.perf_counter() - started)
        from io import BytesIO

        from pypdf import PdfReader

        pages = len(PdfReader(BytesIO(pdf)).pages)
    timings.sort()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"{FORMS} forms of {pages} pages, {len(form.content['results'])} checkpoints, 6 advice "
        f"items: median {statistics.median(timings):.3f} s, p95 "
        f"{timings[int(len(timings) * 0.95) - 1]:.3f} s, total {sum(timings):.1f} s, "
        f"renderer peak {children:.0f} MB"
    )


if __name__ == "__main__":
    main()
