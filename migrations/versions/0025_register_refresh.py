"""the nightly refresh of the vehicle register from RDW's API

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 08:00:00

Issue 18 (the register in the console):
- register_refresh: one row per night's refresh from RDW's open-data API; its unique
  ``day`` is the claim that makes it run once per night; what it asked, found and failed.
- register_plate_asked: when the API was last asked about a plate and whether it knew it,
  so a plate it did not know is asked again after a week, not every night.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "register_refresh",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False, unique=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("plates", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(20)),
        sa.Column("reason_params", sa.JSON()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "register_plate_asked",
        sa.Column("plate", sa.String(16), primary_key=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
    )


def downgrade():
    op.drop_table("register_plate_asked")
    op.drop_table("register_refresh")
