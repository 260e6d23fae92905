"""APK reminders: the garage's setting, what was mailed, the daily claim

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 07:20:00

Issue 18 (reminders that bring customers back):
- garage.apk_reminders, apk_reminder_weeks, apk_reminders_from: a garage mails its
  customers N weeks (default 6) before their car's APK expiry. Off for the garages that
  exist now (their customers never agreed to a new kind of mail from them: the garage
  switches it on), on for garages made from now on (the column's default becomes true
  after the existing rows got false). apk_reminders_from: the first expiry date reminded,
  set when reminders are switched on (5 weeks and a day ahead: no burst of mails about
  cars due within days).
- apk_digest: a fleet manager's weekly mail of his cars due in the next 8 weeks;
  fleet_account.apk_digest_stopped_at: he followed its stop link.
- apk_reminder: a car reminded (to its owner, once per expiry date; or in a digest).
- apk_reminder_run: one row per day, the claim of the daily run.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("garage") as batch:
        batch.add_column(
            sa.Column("apk_reminders", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("apk_reminder_weeks", sa.Integer(), nullable=False, server_default="6")
        )
        batch.add_column(sa.Column("apk_reminders_from", sa.Date()))
    # Existing garages got "off" above; a garage inserted from now on is on by default.
    with op.batch_alter_table("garage") as batch:
        batch.alter_column("apk_reminders", server_default=sa.true())
    with op.batch_alter_table("fleet_account") as batch:
        batch.add_column(sa.Column("apk_digest_stopped_at", sa.DateTime(timezone=True)))
    op.create_table(
        "apk_digest",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("garage_id", sa.Integer(), sa.ForeignKey("garage.id"), nullable=False),
        sa.Column(
            "fleet_account_id", sa.Integer(), sa.ForeignKey("fleet_account.id"), nullable=False
        ),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("fleet_account_id", "week", name="uq_apk_digest_week"),
    )
    op.create_index("ix_apk_digest_garage_id", "apk_digest", ["garage_id"])
    op.create_table(
        "apk_reminder",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("garage_id", sa.Integer(), sa.ForeignKey("garage.id"), nullable=False),
        sa.Column("passport_id", sa.Integer(), sa.ForeignKey("passport.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id")),
        sa.Column("digest_id", sa.Integer(), sa.ForeignKey("apk_digest.id")),
        sa.Column("apk_expiry", sa.Date(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_apk_reminder_owner_expiry",
        "apk_reminder",
        ["passport_id", "apk_expiry"],
        unique=True,
        sqlite_where=sa.text("digest_id IS NULL"),
        postgresql_where=sa.text("digest_id IS NULL"),
    )
    op.create_index("ix_apk_reminder_garage_reminded", "apk_reminder", ["garage_id", "reminded_at"])
    op.create_index(
        "ix_apk_reminder_customer_reminded", "apk_reminder", ["customer_id", "reminded_at"]
    )
    op.create_index("ix_apk_reminder_digest", "apk_reminder", ["digest_id"])
    op.create_table(
        "apk_reminder_run",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("reminders", sa.Integer()),
        sa.Column("digests", sa.Integer()),
    )


def downgrade():
    op.drop_table("apk_reminder_run")
    op.drop_index("ix_apk_reminder_digest", table_name="apk_reminder")
    op.drop_index("ix_apk_reminder_customer_reminded", table_name="apk_reminder")
    op.drop_index("ix_apk_reminder_garage_reminded", table_name="apk_reminder")
    op.drop_index("uq_apk_reminder_owner_expiry", table_name="apk_reminder")
    op.drop_table("apk_reminder")
    op.drop_index("ix_apk_digest_garage_id", table_name="apk_digest")
    op.drop_table("apk_digest")
    with op.batch_alter_table("fleet_account") as batch:
        batch.drop_column("apk_digest_stopped_at")
    with op.batch_alter_table("garage") as batch:
        batch.drop_column("apk_reminders_from")
        batch.drop_column("apk_reminder_weeks")
        batch.drop_column("apk_reminders")
