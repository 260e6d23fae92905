"""the home page's counts: partial indexes for bounced addresses and inspection drafts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:45:00

Issue 15 (home page): each count on a home page answers from an index, at 1M passports and
1.5M customers. Partial indexes hold only the few rows a count reads:
- customer (garage_id) WHERE email_bounced_at IS NOT NULL: "Onjuiste e-mails" for a garage
  and for Support across every garage; without it Support's count read all customers.
- inspection_form (garage_id) WHERE version = 0: a garage's drafts, not its every form.
- inspection_form (invitation_id) WHERE invitation_id IS NOT NULL: "is there a form for
  this invitation?" without reading the garage's forms.
Both dialects support partial indexes (SQLite since 3.8), so no batch mode is needed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_customer_bounced", "customer", ["garage_id"], "email_bounced_at IS NOT NULL"),
    ("ix_inspection_form_drafts", "inspection_form", ["garage_id"], "version = 0"),
    (
        "ix_inspection_form_invitation_id",
        "inspection_form",
        ["invitation_id"],
        "invitation_id IS NOT NULL",
    ),
)


def upgrade():
    for name, table, columns, where in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade():
    for name, table, _columns, _where in INDEXES:
        op.drop_index(name, table_name=table)
