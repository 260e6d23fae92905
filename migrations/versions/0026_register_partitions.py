"""the register's big datasets as one partition per generation (PostgreSQL)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 10:00:00

Issue 18 (importing 1,000,000 register rows ≤ 3× a plain COPY): on PostgreSQL,
register_vehicle and register_fuel become tables partitioned by generation. An import
writes its rows into a table of its own without an index, builds the key once when all
rows are in, and attaches it as the generation's partition; the generation it replaces is
dropped whole. Keeping the key current row by row cost 3.4 s per million rows and deleting
the old million 1.1 s, against 1.2 s for the plain COPY. Rows of no partition of their own
(generation 0, the demo's) live in the default partition. SQLite keeps plain tables: it
has no partitions, and its imports are the small ones.
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# The table and the columns of its key.
PARTITIONED = {
    "register_vehicle": "generation, plate",
    "register_fuel": "generation, plate, sequence",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in PARTITIONED.items():
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        op.execute(
            f"ALTER TABLE {table}_unpartitioned RENAME CONSTRAINT {table}_pkey "
            f"TO {table}_unpartitioned_pkey"
        )
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS, "
            f"PRIMARY KEY ({key})) PARTITION BY LIST (generation)"
        )
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
        op.execute(f"DROP TABLE {table}_unpartitioned")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in PARTITIONED.items():
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
        op.execute(
            f"ALTER TABLE {table}_partitioned RENAME CONSTRAINT {table}_pkey "
            f"TO {table}_partitioned_pkey"
        )
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS, "
            f"PRIMARY KEY ({key}))"
        )
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
        # Its partitions go with it.
        op.execute(f"DROP TABLE {table}_partitioned CASCADE")
