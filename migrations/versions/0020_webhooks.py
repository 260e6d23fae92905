"""signed webhooks: webhook_endpoint, webhook_event, webhook_delivery

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 03:50:00

Issue 16: a garage's HTTPS endpoints (secret stored encrypted, the previous one kept for
the 24 h overlap of a rotation), the events of its records written in their cause's
transaction, and one delivery row per event and endpoint that the worker claims, retries
for 24 hours and keeps 30 days. New tables only: nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _garage_id():
    return sa.Column(
        "garage_id", sa.Integer(), sa.ForeignKey("garage.id", ondelete="CASCADE"), nullable=False
    )


def upgrade():
    aware = sa.DateTime(timezone=True)
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        _garage_id(),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("previous_secret_encrypted", sa.Text()),
        sa.Column("previous_secret_until", aware),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", aware),
        sa.Column("disabled_reason", sa.String(20)),
        sa.Column("failing_since", aware),
        sa.Column("created_at", aware, nullable=False),
        sa.Column("created_by_id", sa.Integer()),
        sa.Column("created_by", sa.String(200)),
    )
    op.create_index("ix_webhook_endpoint_garage_id", "webhook_endpoint", ["garage_id"])
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        _garage_id(),
        sa.Column("message_id", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", aware, nullable=False),
    )
    op.create_index("ix_webhook_event_garage_id", "webhook_event", ["garage_id"])
    op.create_index("ix_webhook_event_created_at", "webhook_event", ["created_at"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        _garage_id(),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("webhook_event.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "endpoint_id",
            sa.Integer(),
            sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", aware, nullable=False),
        sa.Column("give_up_at", aware, nullable=False),
        sa.Column("claimed_at", aware),
        sa.Column("last_attempt_at", aware),
        sa.Column("last_status", sa.Integer()),
        sa.Column("response_ms", sa.Integer()),
        sa.Column("response_body", sa.String(1024)),
        sa.Column("error", sa.String(500)),
        sa.Column("created_at", aware, nullable=False),
    )
    for column in ("garage_id", "event_id", "endpoint_id", "created_at"):
        op.create_index(f"ix_webhook_delivery_{column}", "webhook_delivery", [column])
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["state", "next_attempt_at"])


def downgrade():
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_event")
    op.drop_table("webhook_endpoint")
