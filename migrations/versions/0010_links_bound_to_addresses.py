"""mailed links bound to their address, mails without links, claimed profiles, sessions

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
- customer.claimed_by_id: the Owner login that claimed a profile by a link. Profiles of
  activated passports whose address has an Owner login were claimed by activating (or,
  for drivers, were shown by address): they are claimed for that login here, so nobody
  loses a car he sees today that was his by a link.
- ab_user.session_generation: raised to end every session and JWT of a login.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
CUSTOMER_EXPRESSION_INDEXES = {
    "ix_customer_garage_email": ["garage_id", sa.text("lower(email)")],
    "ix_customer_email_lower": [sa.text("lower(email)")],
}


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
    if sqlite:
        # Batch mode rebuilds the table (SQLite adds no constraint in place) and does not
        # reflect its expression indexes: they are made again after.
        for name in CUSTOMER_EXPRESSION_INDEXES:
            op.drop_index(name, table_name="customer")
        with op.batch_alter_table("customer", naming_convention=NAMING) as batch:
            batch.add_column(sa.Column("claimed_by_id", sa.Integer()))
            batch.create_foreign_key(
                "fk_customer_claimed_by_id_ab_user",
                "ab_user",
                ["claimed_by_id"],
                ["id"],
                ondelete="SET NULL",
            )
        for name, columns in CUSTOMER_EXPRESSION_INDEXES.items():
            op.create_index(name, "customer", columns)
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
        op.add_column(
            "customer",
            sa.Column(
                "claimed_by_id",
                sa.Integer(),
                sa.ForeignKey("ab_user.id", ondelete="SET NULL"),
            ),
        )
        op.alter_column("access_token", "recipient", nullable=False)
        op.alter_column("outbox_message", "params", nullable=False)
        op.drop_column("outbox_message", "body")
    op.create_index("ix_customer_claimed_by_id", "customer", ["claimed_by_id"])
    op.execute(
        """
        UPDATE customer SET claimed_by_id = (
            SELECT min(u.id) FROM ab_user u
            JOIN ab_user_role ur ON ur.user_id = u.id
            JOIN ab_role r ON r.id = ur.role_id AND r.name = 'Owner'
            WHERE lower(u.email) = lower(customer.email)
        )
        WHERE id IN (
            SELECT owner_id FROM passport WHERE state IN ('activated', 'transfer_pending')
            UNION SELECT driver_id FROM passport WHERE driver_id IS NOT NULL
        )
        """
    )


def downgrade():
    op.drop_index("ix_customer_claimed_by_id", table_name="customer")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops no referencing column in place; batch mode rebuilds the table and
        # does not reflect its expression indexes: made again after.
        for name in CUSTOMER_EXPRESSION_INDEXES:
            op.drop_index(name, table_name="customer")
        with op.batch_alter_table("customer", naming_convention=NAMING) as batch:
            batch.drop_constraint("fk_customer_claimed_by_id_ab_user", type_="foreignkey")
            batch.drop_column("claimed_by_id")
        for name, columns in CUSTOMER_EXPRESSION_INDEXES.items():
            op.create_index(name, "customer", columns)
    else:
        op.drop_column("customer", "claimed_by_id")
    op.drop_column("ab_user", "session_generation")
    op.add_column("outbox_message", sa.Column("body", sa.Text(), server_default=""))
    op.drop_index("ix_outbox_recipient_lower", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("params")
    op.create_index("ix_outbox_recipient_lower", "outbox_message", [sa.text("lower(recipient)")])
    with op.batch_alter_table("access_token") as batch:
        batch.drop_column("recipient")
