"""batch rows: the plate as shown (for the mails the database writes) and their chunk

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: batch mode would rebuild the table on SQLite for nothing.
    op.add_column("batch_row", sa.Column("shown_plate", sa.String(length=16), nullable=True))
    op.add_column(
        "batch_row", sa.Column("chunk", sa.Integer(), nullable=False, server_default="0")
    )
    # Rows of a job staged before this revision: chunks in row order. Their e-mails may span
    # chunks, which the run then writes one after another.
    op.execute("UPDATE batch_row SET chunk = row_number / 5000")
    op.create_index("ix_batch_row_job_chunk", "batch_row", ["batch_job_id", "chunk"])
    if op.get_bind().dialect.name == "postgresql":
        # The run writes each row's outcome once: with room on its page the new row version
        # stays there and no index is touched (a HOT update).
        op.execute("ALTER TABLE batch_row SET (fillfactor = 50)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE batch_row RESET (fillfactor)")
    op.drop_index("ix_batch_row_job_chunk", table_name="batch_row")
    with op.batch_alter_table("batch_row") as batch:
        batch.drop_column("chunk")
        batch.drop_column("shown_plate")
