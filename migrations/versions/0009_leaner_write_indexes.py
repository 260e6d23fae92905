"""fewer indexes and checks to keep up on every new customer, passport and audit row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:00:00

Each index is written by every insert: a 100,000-row customer list writes 100,000
customers and passports. These answered nothing another index did not:
- customer (garage_id): (garage_id, lower(email)) and (garage_id, last_name) lead with it;
- passport (garage_id): (garage_id, state) and (garage_id, id) lead with it;
- audit_log (at): the screens list the log by id, a passport's history by passport_id;
  and audit_log (garage_id) becomes (garage_id, id): a garage's log, newest first;
- outbox_message (recipient) answered no query: a customer's mails are looked up by
  lower(recipient), which now has the index.
Most passports have no driver and no fleet account: those indexes now hold only the cars
that do (a lookup by a driver or fleet account still uses them).
The audit log's garage is a label for scoping, not a reference: the log is append-only, so
no garage's deletion may rewrite it (ON DELETE SET NULL did), and the foreign key made each
of the importer's 200,000 audit rows look its garage up.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PARTIAL = ("driver_id", "fleet_account_id")
# SQLite's foreign key has no name: batch mode finds it by this convention.
SQLITE_FK = "fk_audit_log_garage_id_garage"
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("audit_log_garage_id_fkey", "audit_log", type_="foreignkey")
    else:
        with op.batch_alter_table("audit_log", naming_convention=NAMING) as batch:
            batch.drop_constraint(SQLITE_FK, type_="foreignkey")
    op.drop_index("ix_customer_garage_id", table_name="customer")
    op.drop_index("ix_passport_garage_id", table_name="passport")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_garage_id", table_name="audit_log")
    op.create_index("ix_audit_log_garage_id_desc", "audit_log", ["garage_id", "id"])
    op.drop_index("ix_outbox_message_recipient", table_name="outbox_message")
    op.create_index("ix_outbox_recipient_lower", "outbox_message", [sa.text("lower(recipient)")])
    for column in PARTIAL:
        op.drop_index(f"ix_passport_{column}", table_name="passport")
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_passport_{column}",
            "passport",
            [column],
            postgresql_where=condition,
            sqlite_where=condition,
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(
            "audit_log_garage_id_fkey",
            "audit_log",
            "garage",
            ["garage_id"],
            ["id"],
            ondelete="SET NULL",
        )
    else:
        with op.batch_alter_table("audit_log", naming_convention=NAMING) as batch:
            batch.create_foreign_key(SQLITE_FK, "garage", ["garage_id"], ["id"], ondelete="SET NULL")
    for column in PARTIAL:
        op.drop_index(f"ix_passport_{column}", table_name="passport")
        op.create_index(f"ix_passport_{column}", "passport", [column])
    op.create_index("ix_passport_garage_id", "passport", ["garage_id"])
    op.drop_index("ix_outbox_recipient_lower", table_name="outbox_message")
    op.create_index("ix_outbox_message_recipient", "outbox_message", ["recipient"])
    op.drop_index("ix_audit_log_garage_id_desc", table_name="audit_log")
    op.create_index("ix_audit_log_garage_id", "audit_log", ["garage_id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_customer_garage_id", "customer", ["garage_id"])
