"""a customer's data export (AVG/GDPR)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 11:00:00

Issue 19 (R-DR-1): data_export records who asked for a ZIP of a customer's data, about
whom (a customer row, or an Owner's own login), how wide (his garage, or every garage),
its state and progress, and where the worker put the file; ids only, no personal values.
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_export",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "requested_by_id",
            sa.Integer(),
            sa.ForeignKey("ab_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id", ondelete="SET NULL")),
        sa.Column("owner_user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="SET NULL")),
        sa.Column("garage_id", sa.Integer(), sa.ForeignKey("garage.id", ondelete="SET NULL")),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("ready_at", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("requested_by_id", "customer_id", "garage_id", "expires_at"):
        op.create_index(f"ix_data_export_{column}", "data_export", [column])


def downgrade():
    op.drop_table("data_export")
