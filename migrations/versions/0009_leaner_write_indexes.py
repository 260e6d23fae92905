"""fewer indexes and checks to keep up on every new customer, passport and audit row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:00:00

Each index is written by every insert: a 100,000-row customer list writes 100,000
customers and passports. These answered nothing another index did not:
- customer (garage_id): (garage_id, lower(email)) and (garage_id, last_name) lead with it;
- passport (garage_id): (garage_id, state) and (garage_id, id) lead with it.
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
    op.create_index("ix_customer_garage_id", "customer", ["garage_id"])
