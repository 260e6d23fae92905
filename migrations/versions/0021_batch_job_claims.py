"""batch jobs claimed by the worker that runs them

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 06:05:00

Issue 17 (claims that never run twice):
- batch_job.queued_at: when the clock last put a due job on the rq queue. The job stays
  `scheduled` (and can be cancelled) while it waits there.
- batch_job.claimed_by, claimed_at: the worker that took the job when it started, set by a
  conditional UPDATE; only that claim makes a job `running`. Before, the clock marked a job
  `running` when it queued it, and a job waiting longer than the stale time was queued again
  and could run on two workers at once.
Jobs `running` today keep running: their heartbeat decides, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("batch_job") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("claimed_by", sa.String(200)))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table("batch_job") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
        batch.drop_column("queued_at")
