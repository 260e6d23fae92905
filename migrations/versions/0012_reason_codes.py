"""refusal reasons as codes with their parameters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 21:55:00

Issue 14 (Dutch throughout, R-X-2): a refused row of a customer list stored its reason as
a Dutch sentence, so the English console showed Dutch. New rows store the codes
(batch_row.reason_code, space-separated) and their parameters (batch_row.reason_params:
[[code, {...}], ...]), put into words when read. Rows refused before keep their text in
batch_row.reason.

The lead re-points down_revision to "0011" when merging issue 14's parts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("batch_row", sa.Column("reason_code", sa.String(200)))
    op.add_column("batch_row", sa.Column("reason_params", sa.JSON()))


def downgrade():
    # SQLite drops a column by rebuilding the table (batch mode), as in 0010.
    with op.batch_alter_table("batch_row") as batch:
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
