"""search indexes for platform scale (PostgreSQL): trigram on names and e-mails, plate
prefixes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:10:00

The counter's one search box looks for a plate prefix, or a name or e-mail containing the
text (`LIKE '%…%'`): without these, support's search across all garages reads every
customer. pg_trgm ships with PostgreSQL (a trusted extension since 13). SQLite has no
equivalent; its databases are small.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_customer_last_name_trgm": "customer USING gin (lower(last_name) gin_trgm_ops)",
    "ix_customer_email_trgm": "customer USING gin (lower(email) gin_trgm_ops)",
    "ix_passport_plate_prefix": "passport (plate text_pattern_ops)",
    # A garage's "last name starts with": a range in its own customers.
    "ix_customer_garage_last_name_prefix": (
        "customer (garage_id, lower(last_name) text_pattern_ops)"
    ),
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
