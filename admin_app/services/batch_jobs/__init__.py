"""Customer-list batch jobs (R-BJ-2…6): preview, confirm for the night, run in chunks.

A job works set-based, a chunk of rows at a time: a few queries and bulk writes per chunk,
never one per row. Each chunk commits its passports, customers, audit rows, outbox rows
and row outcomes together, so a killed worker resumes after the last committed chunk and
a second run of the same file only finds `unchanged` rows.

A package along the importer's sections (issue 20), under the module's old name so that
every caller's ``from admin_app.services import batch_jobs`` keeps working: schedule,
planning (rows planned in the database), preview (upload and preview), claiming (due jobs,
several workers), run and chunk (the chunk writer), results (what screens and API show).
Every step flushes in its caller's transaction; admin_app/jobs/batch.py owns a run's and a
background preview's commits and threads (issue 20, "services flush, never commit").
"""

from admin_app.services.batch_jobs.chunk import CHUNK_PLAN, ChunkWriter
from admin_app.services.batch_jobs.claiming import (
    STALE_HEARTBEAT,
    claim_due_jobs,
    claim_job,
    queue_due_jobs,
)
from admin_app.services.batch_jobs.planning import PLANS, ROW_FIELDS, VEHICLE_FIELDS
from admin_app.services.batch_jobs.preview import (
    BACKGROUND_PREVIEW_ROWS,
    CHUNK,
    SQLITE_CHUNK,
    announce_job,
    checked_upload,
    chunk_assigner,
    finish_preview,
    forget_staged_rows,
    plan_staged,
    record_preview_progress,
    stage_rows,
    staged_rows,
    store_preview,
    upload_list,
)
from admin_app.services.batch_jobs.results import (
    OUTCOMES,
    REFUSED_HEADER,
    ROWS_PER_PAGE,
    RowsPage,
    job_rows,
    job_rows_page,
    job_rows_query,
    refused_rows_xlsx,
    row_result,
)
from admin_app.services.batch_jobs.run import (
    ChunkOrder,
    ClaimLost,
    Run,
    finish_run,
    job_for_worker,
    start_run,
)
from admin_app.services.batch_jobs.schedule import (
    NIGHTLY_HOUR,
    cancel_job,
    confirm_job,
    get_job,
    next_nightly_run,
    run_now,
)

__all__ = [
    "BACKGROUND_PREVIEW_ROWS",
    "CHUNK",
    "CHUNK_PLAN",
    "NIGHTLY_HOUR",
    "OUTCOMES",
    "PLANS",
    "REFUSED_HEADER",
    "ROWS_PER_PAGE",
    "ROW_FIELDS",
    "SQLITE_CHUNK",
    "STALE_HEARTBEAT",
    "VEHICLE_FIELDS",
    "ChunkOrder",
    "ChunkWriter",
    "ClaimLost",
    "RowsPage",
    "Run",
    "announce_job",
    "cancel_job",
    "checked_upload",
    "chunk_assigner",
    "claim_due_jobs",
    "claim_job",
    "confirm_job",
    "finish_preview",
    "finish_run",
    "forget_staged_rows",
    "get_job",
    "job_for_worker",
    "job_rows",
    "job_rows_page",
    "job_rows_query",
    "next_nightly_run",
    "plan_staged",
    "queue_due_jobs",
    "record_preview_progress",
    "refused_rows_xlsx",
    "row_result",
    "run_now",
    "stage_rows",
    "staged_rows",
    "start_run",
    "store_preview",
    "upload_list",
]
