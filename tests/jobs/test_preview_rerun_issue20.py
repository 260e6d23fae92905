"""Issue 20 (attack): the worker's preview stages a large list in committed pieces
(jobs/batch.preview_in_background, STAGED_PER_COMMIT), on both databases. A worker killed
after some pieces committed leaves those rows behind, the job still `previewing`; run
again, it must end exactly as a preview that was never interrupted: the same counts, the
same rows in the same chunks, no row twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.jobs import batch as batch_job
from admin_app.models import BatchJob, BatchRow
from admin_app.services import batch_jobs

DATA = Path(__file__).parent.parent / "data"


def _upload(session, acting) -> int:
    with unit_of_work(session):
        job = batch_jobs.upload_list(
            session,
            actor=acting.actor,
            filename="klantenlijst-met-fouten.csv",
            data=(DATA / "klantenlijst-met-fouten.csv").read_bytes(),
            send_to_customers=False,
            background_from=10,
        )
    assert job.state == "previewing"
    return job.id


def _outcome(session, job_id: int):
    session.expire_all()
    job = session.get(BatchJob, job_id)
    rows = session.execute(
        select(
            BatchRow.row_number,
            BatchRow.plate,
            BatchRow.plan,
            BatchRow.chunk,
            BatchRow.leads,
            BatchRow.reason_code,
        )
        .where(BatchRow.batch_job_id == job_id)
        .order_by(BatchRow.row_number, BatchRow.id)
    ).all()
    return job.state, job.counts, job.total_rows, [tuple(row) for row in rows]


@pytest.mark.parametrize("killed_at_piece", [2, 4])
def test_issue20_a_preview_killed_halfway_runs_again_to_the_same_rows(
    app, world, acting_as, monkeypatch, killed_at_piece
):
    s = world.session
    with acting_as("garage-devries") as acting:
        whole_id = _upload(s, acting)
        killed_id = _upload(s, acting)
    # Pieces of 10 rows (the list has 60), no pause between them.
    monkeypatch.setattr(batch_job, "STAGED_PER_COMMIT", 10)
    monkeypatch.setattr(batch_job, "SQLITE_TURN_SECONDS", 0)
    with app.app_context():
        batch_job.preview_in_background(s, whole_id, chunk_size=7)

    stage_rows = batch_jobs.stage_rows
    pieces = []

    def killed(session, piece):
        pieces.append(len(piece))
        if len(pieces) == killed_at_piece:
            raise RuntimeError("worker killed")
        return stage_rows(session, piece)

    monkeypatch.setattr(batch_jobs, "stage_rows", killed)
    with app.app_context(), pytest.raises(RuntimeError):
        batch_job.preview_in_background(s, killed_id, chunk_size=7)
    s.rollback()
    left = s.scalar(
        select(func.count()).select_from(BatchRow).where(BatchRow.batch_job_id == killed_id)
    )
    assert left == 10 * (killed_at_piece - 1)  # the committed pieces stay behind
    assert s.get(BatchJob, killed_id).state == "previewing"

    monkeypatch.setattr(batch_jobs, "stage_rows", stage_rows)
    with app.app_context():
        batch_job.preview_in_background(s, killed_id, chunk_size=7)
    whole, rerun = _outcome(s, whole_id), _outcome(s, killed_id)
    assert rerun[0] == "preview"
    assert rerun[1:] == whole[1:]
    assert whole[1] == {"create": 45, "update": 0, "unchanged": 0, "refused": 15}
    numbers = [row[0] for row in rerun[3]]
    assert len(numbers) == len(set(numbers)) == 60
