"""idempotency_key: every API POST's Idempotency-Key, per caller, kept 24 hours

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 03:50:00

Issue 16: a POST that creates or acts accepts `Idempotency-Key`. The key is the caller's
(a login, or an API key: ``api_key_id`` gets its foreign key with the keys' own table),
kept 24 hours with a hash of method, path and body and the answer to give again. One
unique index per kind of caller makes claiming a key a single INSERT, whatever the number
of web processes.

transfer.confirmation_key goes: it was the transfer's own idempotency (any body, forever,
looked up across garages); the transfer now follows the one rule above.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ONE_PENDING = sa.text("state = 'pending'")


def upgrade():
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE")),
        sa.Column("api_key_id", sa.Integer()),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("headers", sa.JSON()),
        sa.Column("body", sa.LargeBinary()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (api_key_id IS NULL)", name="ck_idempotency_key_one_caller"
        ),
    )
    for caller in ("user", "api_key"):
        op.create_index(
            f"uq_idempotency_key_{caller}",
            "idempotency_key",
            [f"{caller}_id", "key"],
            unique=True,
            sqlite_where=sa.text(f"{caller}_id IS NOT NULL"),
            postgresql_where=sa.text(f"{caller}_id IS NOT NULL"),
        )
    op.create_index("ix_idempotency_key_expires_at", "idempotency_key", ["expires_at"])

    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a UNIQUE column in place: batch mode copies the table, and
        # does not carry the partial index over (as in 0010).
        op.drop_index("uq_transfer_one_pending", table_name="transfer")
        with op.batch_alter_table("transfer") as batch:
            batch.drop_column("confirmation_key")
        _one_pending_index()
    else:
        op.drop_column("transfer", "confirmation_key")  # its unique constraint with it


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("uq_transfer_one_pending", table_name="transfer")
        with op.batch_alter_table("transfer") as batch:
            batch.add_column(sa.Column("confirmation_key", sa.String(64)))
            batch.create_unique_constraint("uq_transfer_confirmation_key", ["confirmation_key"])
        _one_pending_index()
    else:
        op.add_column("transfer", sa.Column("confirmation_key", sa.String(64)))
        op.create_unique_constraint(
            "uq_transfer_confirmation_key", "transfer", ["confirmation_key"]
        )
    op.drop_index("ix_idempotency_key_expires_at", table_name="idempotency_key")
    for caller in ("user", "api_key"):
        op.drop_index(f"uq_idempotency_key_{caller}", table_name="idempotency_key")
    op.drop_table("idempotency_key")


def _one_pending_index():
    op.create_index(
        "uq_transfer_one_pending",
        "transfer",
        ["passport_id"],
        unique=True,
        sqlite_where=ONE_PENDING,
        postgresql_where=ONE_PENDING,
    )
