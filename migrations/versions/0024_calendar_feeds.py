"""calendar feeds, and the transfer reminder's claim

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 07:15:00

Issue 18 (reminders that bring customers back):
- calendar_feed: an Owner's or fleet manager's secret calendar address (ICS). Only the
  SHA-256 of the secret is kept; at most one live (unrevoked) address per login.
- transfer.reminded_at: when the new owner was reminded that his accept link expires in
  3 days; the conditional UPDATE that sets it is the claim, so the reminder goes once.
  Transfers pending today count as not yet reminded.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("ab_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_calendar_feed_user_id", "calendar_feed", ["user_id"])
    op.create_index(
        "uq_calendar_feed_one_live",
        "calendar_feed",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    with op.batch_alter_table("transfer") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table("transfer") as batch:
        batch.drop_column("reminded_at")
    op.drop_index("uq_calendar_feed_one_live", table_name="calendar_feed")
    op.drop_index("ix_calendar_feed_user_id", table_name="calendar_feed")
    op.drop_table("calendar_feed")
