"""the vehicle register: RDW open data in generations, and its imports

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 07:20:00

Issue 18 (the register in the console):
- register_import: one row per register file; its id is the generation its rows carry,
  and the newest `done` import of a dataset is the register readers see.
- register_vehicle, register_fuel, recall_detail: the datasets, keyed by generation.
- recall (the status per plate) joins them: a generation column (its rows so far are
  generation 0, what readers see until the first import), the unique key by generation,
  and its description moves to recall_detail (one text per RDW reference; where rows of
  one reference had different texts, the longest is kept).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "register_import",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset", sa.String(20)),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("read_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(20)),
        sa.Column("reason_params", sa.JSON()),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_register_import_dataset_state", "register_import", ["dataset", "state"])
    op.create_table(
        "register_vehicle",
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("plate", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(60)),
        sa.Column("brand", sa.String(60)),
        sa.Column("trade_name", sa.String(120)),
        sa.Column("apk_expiry", sa.Date()),
        sa.Column("first_admission", sa.Date()),
        sa.Column("registered_on", sa.Date()),
        sa.Column("colour", sa.String(40)),
        sa.Column("body", sa.String(60)),
        sa.Column("seats", sa.Integer()),
        sa.Column("catalogue_price", sa.Integer()),
        sa.Column("last_seen_on", sa.Date(), nullable=False),
    )
    op.create_table(
        "register_fuel",
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("plate", sa.String(16), primary_key=True),
        sa.Column("sequence", sa.Integer(), primary_key=True),
        sa.Column("fuel", sa.String(60), nullable=False),
    )
    op.create_table(
        "recall_detail",
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(40), primary_key=True),
        sa.Column("published_on", sa.Date()),
        sa.Column("defect", sa.Text()),
        sa.Column("remedy", sa.Text()),
        sa.Column("consequences", sa.Text()),
    )
    op.execute(
        "INSERT INTO recall_detail (generation, reference, defect) "
        "SELECT 0, reference, MAX(description) FROM recall "
        "WHERE description IS NOT NULL AND description <> '' GROUP BY reference"
    )
    with op.batch_alter_table("recall") as batch:
        batch.add_column(sa.Column("generation", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("recall") as batch:
        batch.alter_column("generation", server_default=None)
        batch.drop_constraint("uq_recall_plate_reference", type_="unique")
        batch.create_unique_constraint(
            "uq_recall_generation_plate_reference", ["generation", "plate", "reference"]
        )
        batch.drop_index("ix_recall_plate")
        batch.drop_column("description")


def downgrade():
    with op.batch_alter_table("recall") as batch:
        batch.add_column(sa.Column("description", sa.Text()))
    # Back to one generation: the rows readers saw, with their recall's text.
    op.execute(
        "DELETE FROM recall WHERE generation <> (SELECT COALESCE(MAX(id), 0) FROM "
        "register_import WHERE dataset = 'recall_status' AND state = 'done')"
    )
    op.execute(
        "UPDATE recall SET description = (SELECT MAX(d.defect) FROM recall_detail d "
        "WHERE d.reference = recall.reference)"
    )
    with op.batch_alter_table("recall") as batch:
        batch.drop_constraint("uq_recall_generation_plate_reference", type_="unique")
        batch.create_unique_constraint("uq_recall_plate_reference", ["plate", "reference"])
        batch.create_index("ix_recall_plate", ["plate"])
        batch.drop_column("generation")
    op.drop_table("recall_detail")
    op.drop_table("register_fuel")
    op.drop_table("register_vehicle")
    op.drop_index("ix_register_import_dataset_state", table_name="register_import")
    op.drop_table("register_import")
