"""API keys for garage management systems: api_key

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06 03:50:00

Issue 16: a garage's management system calls the API with a key instead of a person's
password. Each key stores an HMAC-SHA256 of its secret keyed by SECRET_KEY (never the
secret), and the non-login service user it acts as (role Garage, its garage), so that the
key outlives the colleague who made it (created_by_id is set to NULL when he is deleted).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "garage_id",
            sa.Integer(),
            sa.ForeignKey("garage.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="SET NULL")),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column(
            "service_user_id",
            sa.Integer(),
            sa.ForeignKey("ab_user.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
    )
    op.create_index("ix_api_key_garage_id", "api_key", ["garage_id"])


def downgrade():
    # The service users stay (audit rows and records they made name them), unable to act:
    # without their key nothing authenticates them, and they are made inactive too.
    op.execute(
        "UPDATE ab_user SET active = false WHERE id IN (SELECT service_user_id FROM api_key)"
    )
    op.drop_index("ix_api_key_garage_id", table_name="api_key")
    op.drop_table("api_key")
