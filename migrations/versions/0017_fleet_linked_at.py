"""when a car joined its fleet: passport.fleet_linked_at

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:40:00

Issue 15 (R-FL-5): the fleet manager reads the inspection forms made while the car was in
his fleet in full, and earlier forms without their customer block. Nothing in the schema
said since when a car is in its fleet (the audit log holds it only as JSON text, and the
importers' set-based updates write no audit row per car). Cars linked before this
migration get NULL, read as "unknown": their earlier forms show without customer block,
the safe side; a new link stamps the time (models.passports).
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("passport", sa.Column("fleet_linked_at", sa.DateTime(timezone=True)))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of passport would have to rebuild
    # its partial unique index on live plates.
    op.drop_column("passport", "fleet_linked_at")
