"""Customer-list batch jobs (R-BJ-2…6): preview, confirm for the night, run in chunks.

A job works set-based, a chunk of rows at a time: a few queries and bulk writes per chunk,
never one per row. Each chunk commits its passports, customers, audit rows, outbox rows
and row outcomes together, so a killed worker resumes after the last committed chunk and
a second run of the same file only finds `unchanged` rows.

A package along the importer's sections (issue 20), under the module's old name so that
every caller's ``from admin_app.services import batch_jobs`` keeps working: schedule,
planning (rows planned in the database), preview (upload and preview), claiming (due jobs,
several workers), run and chunk (the chunk writer), results (what screens and API show).
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
    chunk_assigner,
    preview_in_background,
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
from admin_app.services.batch_jobs.run import ClaimLost, Run, process_job
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
    "ChunkWriter",
    "ClaimLost",
    "Run",
    "RowsPage",
    "announce_job",
    "cancel_job",
    "chunk_assigner",
    "claim_due_jobs",
    "claim_job",
    "confirm_job",
    "get_job",
    "job_rows",
    "job_rows_page",
    "job_rows_query",
    "next_nightly_run",
    "preview_in_background",
    "process_job",
    "queue_due_jobs",
    "refused_rows_xlsx",
    "row_result",
    "run_now",
    "upload_list",
]
