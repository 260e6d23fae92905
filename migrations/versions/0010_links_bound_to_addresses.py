"""mailed links bound to their address, mails without links, claimed cars, sessions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 19:15:00

Issue 13 (security):
- access_token.recipient: the address a link was mailed to. Links made before carry no
  address and could act for whoever the address points to now: they are voided here
  (a customer asks the garage for a new one).
- outbox_message.params replaces body: a mail row holds ids, never a link; the worker
  writes the text at send time. Mails still waiting held their link in the body: they
  are marked failed, so that no row keeps a working link.
- passport_claim: the Owner login that claimed a car, as its owner or its driver, by a
  mailed link. Activated cars whose owner's address has an Owner login were claimed by
  activating, and drivers were shown their cars by address: they are claimed for that
  login here, so nobody loses a car he sees today.
- ab_user.session_generation: raised to end every session and JWT of a login.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("access_token", sa.Column("recipient", sa.String(320)))
    op.execute(
        "UPDATE access_token SET recipient = '', used_at = COALESCE(used_at, created_at)"
    )
    op.add_column("outbox_message", sa.Column("params", sa.JSON()))
    op.execute("UPDATE outbox_message SET params = '{}'")
    op.execute(
        "UPDATE outbox_message SET state = 'failed', last_error = 'migration 0010: "
        "mail written before links were made at send time' "
        "WHERE state IN ('pending', 'sending')"
    )
    op.add_column(
        "ab_user",
        sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "passport_claim",
        sa.Column(
            "passport_id",
            sa.Integer(),
            sa.ForeignKey("passport.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(10), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_passport_claim_user_id", "passport_claim", ["user_id"])
    for role, column, states in (
        ("owner", "owner_id", "AND p.state IN ('activated', 'transfer_pending')"),
        ("driver", "driver_id", ""),
    ):
        op.execute(
            f"""
            INSERT INTO passport_claim (passport_id, role, user_id, claimed_at)
            SELECT p.id, '{role}', min(u.id), CURRENT_TIMESTAMP
            FROM passport p
            JOIN customer c ON c.id = p.{column}
            JOIN ab_user u ON lower(u.email) = lower(c.email)
            JOIN ab_user_role ur ON ur.user_id = u.id
            JOIN ab_role r ON r.id = ur.role_id AND r.name = 'Owner'
            WHERE true {states}
            GROUP BY p.id
            """
        )
    if sqlite:
        with op.batch_alter_table("access_token") as batch:
            batch.alter_column("recipient", nullable=False)
        # Batch mode rebuilds the table and does not reflect an expression index.
        op.drop_index("ix_outbox_recipient_lower", table_name="outbox_message")
        with op.batch_alter_table("outbox_message") as batch:
            batch.alter_column("params", nullable=False)
            batch.drop_column("body")
        op.create_index(
            "ix_outbox_recipient_lower", "outbox_message", [sa.text("lower(recipient)")]
        )
    else:
        op.alter_column("access_token", "recipient", nullable=False)
        op.alter_column("outbox_message", "params", nullable=False)
        op.drop_column("outbox_message", "body")


def downgrade():
    op.drop_index("ix_passport_claim_user_id", table_name="passport_claim")
    op.drop_table("passport_claim")
    op.drop_column("ab_user", "session_generation")
    op.add_column("outbox_message", sa.Column("body", sa.Text(), server_default=""))
    op.drop_index("ix_outbox_recipient_lower", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("params")
    op.create_index("ix_outbox_recipient_lower", "outbox_message", [sa.text("lower(recipient)")])
    with op.batch_alter_table("access_token") as batch:
        batch.drop_column("recipient")
