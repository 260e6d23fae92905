"""bulk tasks on the passport list and their per-row outcomes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:40:00

Issue 15 (bulk actions): a task is one action (send, archive, link, unlink, or the undo of
an archive) over selected passports, with its progress; task_row holds each passport's
outcome and reason, and the state an archived passport had, for the undo. Bulk tasks are
not batch jobs: /api/v1/batch_job/ keeps its customer lists only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("garage_id", sa.Integer(), sa.ForeignKey("garage.id")),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("done_rows", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("fleet_account_id", sa.Integer(), sa.ForeignKey("fleet_account.id")),
        sa.Column("undoes_task_id", sa.Integer(), sa.ForeignKey("task.id")),
        sa.Column("error", sa.String(500)),
    )
    op.create_index("ix_task_garage_created", "task", ["garage_id", "created_at"])
    op.create_table(
        "task_row",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "task_id", sa.Integer(), sa.ForeignKey("task.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("passport_id", sa.Integer(), sa.ForeignKey("passport.id"), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("reason_params", sa.JSON()),
        sa.Column("previous_state", sa.String(20)),
    )
    op.create_index("ix_task_row_task_outcome", "task_row", ["task_id", "outcome", "id"])


def downgrade():
    op.drop_index("ix_task_row_task_outcome", table_name="task_row")
    op.drop_table("task_row")
    op.drop_index("ix_task_garage_created", table_name="task")
    op.drop_table("task")
