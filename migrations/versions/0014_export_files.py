"""export_file: lists exported by a worker, kept in the database for 24 hours

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:40:00

Issue 15: an Excel export of more than 100,000 rows is built by a worker. Web processes
and workers may run on several machines that share only PostgreSQL and Redis, so the
file is kept in this table (its bytes dropped when it expires after 24 hours), with who
asked for it, which list and filter, its state and progress.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("ab_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_name", sa.String(256), nullable=False),
        sa.Column("garage_id", sa.Integer()),
        sa.Column("list_name", sa.String(60), nullable=False),
        sa.Column("endpoint", sa.String(120), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("filter_text", sa.Text(), nullable=False),
        sa.Column("fmt", sa.String(10), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary()),
        sa.Column("error", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_export_file_user_id", "export_file", ["user_id"])
    op.create_index("ix_export_file_expires_at", "export_file", ["expires_at"])


def downgrade():
    op.drop_index("ix_export_file_expires_at", table_name="export_file")
    op.drop_index("ix_export_file_user_id", table_name="export_file")
    op.drop_table("export_file")
