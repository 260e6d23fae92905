"""batch rows as the importer's staging table: typed columns for set-based runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT_COLUMNS = (
    ("first_name", 100),
    ("infix", 40),
    ("last_name", 150),
    ("street", 200),
    ("house_number", 20),
    ("postcode", 10),
    ("city", 100),
    ("phone", 40),
    ("customer_number", 40),
    ("brand", 60),
    ("model", 80),
)


def upgrade():
    with op.batch_alter_table("batch_row") as batch:
        batch.add_column(
            sa.Column("email_key", sa.String(length=320), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("valid", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(
            sa.Column("leads", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for name, length in TEXT_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch.add_column(sa.Column("apk_expiry", sa.Date(), nullable=True))
        batch.alter_column("values", existing_type=sa.JSON(), nullable=True)
        batch.create_index("ix_batch_row_job_email", ["batch_job_id", "email_key"])
    # Rows stored before this revision keep their values in JSON; an unfinished job among
    # them would plan against empty columns, so they are marked by their own check only.
    op.execute("UPDATE batch_row SET email_key = lower(email), valid = (reason IS NULL)")


def downgrade():
    op.execute('UPDATE batch_row SET "values" = \'{}\' WHERE "values" IS NULL')
    with op.batch_alter_table("batch_row") as batch:
        batch.drop_index("ix_batch_row_job_email")
        batch.alter_column("values", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("apk_expiry")
        for name, _ in reversed(TEXT_COLUMNS):
            batch.drop_column(name)
        batch.drop_column("leads")
        batch.drop_column("valid")
        batch.drop_column("email_key")
