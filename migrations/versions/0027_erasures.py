"""erasures: the record of each erase of a customer or a person (AVG/GDPR)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 11:00:00

Issue 19 (R-DR-2): Support erases one garage's customer or the person at every garage.
What was erased, the request date, the reason, who and when are kept here, with ids only:
the erased rows themselves read "verwijderd" afterwards.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("customer_id", sa.Integer()),
        sa.Column("garage_id", sa.Integer()),
        sa.Column("user_id", sa.Integer()),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("erased_by_id", sa.Integer()),
        sa.Column("erased_by", sa.String(200), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_erasure_customer_id", "erasure", ["customer_id"])
    op.create_index("ix_erasure_garage_id", "erasure", ["garage_id"])


def downgrade():
    op.drop_index("ix_erasure_garage_id", table_name="erasure")
    op.drop_index("ix_erasure_customer_id", table_name="erasure")
    op.drop_table("erasure")
