"""a part of a plate anywhere in it: a trigram index on passport.plate (PostgreSQL)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 21:40:00

Issue 14: the counter's search box finds a part of a plate in any notation ("43-ZK" finds
V-43-ZKJ, R-PP-2), by `plate LIKE '%43ZK%'` on the normalized plate. 0007's prefix index
cannot answer a part in the middle; without this index support's search across all garages
reads every passport. pg_trgm is 0007's extension (trusted since PostgreSQL 13: the app's
own database user creates it, as in CI). SQLite gets no index: a leading wildcard reads
its table whatever the index, and its databases are small.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEX = "ix_passport_plate_trgm"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON passport USING gin (plate gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
