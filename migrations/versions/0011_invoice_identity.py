"""an invoice's identity: its number in the garage's management system

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 21:20:00

Issue 14 (data that stays right, R-CP-4): uploading the same invoice export again added
every invoice again and inflated conversion. An invoice is now identified per garage by
the number its management system gave it, when the export has one (a unique index; NULLs
repeat freely in it on both databases), otherwise by its date, plate, customer number,
amount and kind (services/proposals). Invoices stored before carry no number: they are
matched by those values.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_number", sa.String(40), nullable=True))
        batch_op.create_index(
            "uq_invoice_garage_number", ["garage_id", "invoice_number"], unique=True
        )


def downgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("uq_invoice_garage_number")
        batch_op.drop_column("invoice_number")
