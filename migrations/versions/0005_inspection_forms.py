"""inspection forms, checkpoints (standard list seeded), invitations, versions, recalls

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 20:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The standard checklist (R-IN-4): grouped as a workshop walks round the car.
STANDARD_CHECKPOINTS = {
    "Verlichting": [
        "Koplampen en grootlicht",
        "Stadslichten en achterlichten",
        "Remlichten",
        "Richtingaanwijzers en alarmlichten",
        "Mistlampen",
        "Kentekenverlichting",
    ],
    "Banden en wielen": [
        "Profieldiepte voor",
        "Profieldiepte achter",
        "Bandenspanning",
        "Beschadigingen banden",
        "Wielbouten en velgen",
    ],
    "Remmen": [
        "Remblokken en remschijven voor",
        "Remblokken en remschijven achter",
        "Remvloeistof",
        "Handrem",
        "Remleidingen en -slangen",
    ],
    "Onder de motorkap": [
        "Motorolie (niveau en lekkage)",
        "Koelvloeistof",
        "Ruitensproeiervloeistof",
        "Accu en aansluitingen",
        "Distributie- en multiriem",
        "Luchtfilter",
    ],
    "Interieur": [
        "Gordels",
        "Claxon",
        "Ruitenwissers en sproeiers",
        "Spiegels",
        "Airconditioning en verwarming",
        "Waarschuwingslampjes dashboard",
    ],
    "Onderzijde en uitlaat": [
        "Uitlaatsysteem",
        "Schokdempers",
        "Stuurinrichting en fuseekogels",
        "Aandrijfassen en manchetten",
        "Lekkages onderzijde",
        "Bodem en roest",
    ],
    "Proefrit": [
        "Motor en koppeling",
        "Versnellingsbak",
        "Remwerking tijdens rit",
        "Rechtuitloop en stuurgedrag",
        "Geluiden tijdens rit",
        "Werking instrumenten",
    ],
}


def upgrade():
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("garage_id", sa.Integer(), nullable=True),
        sa.Column("group_name", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["garage_id"], ["garage.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_checkpoint_garage_id"), "checkpoint", ["garage_id"])
    op.create_table(
        "inspection_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("garage_id", sa.Integer(), nullable=False),
        sa.Column("passport_id", sa.Integer(), nullable=False),
        sa.Column("wanted_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["garage_id"], ["garage.id"]),
        sa.ForeignKeyConstraint(["passport_id"], ["passport.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_inspection_invitation_garage_id"), "inspection_invitation", ["garage_id"]
    )
    op.create_index(
        op.f("ix_inspection_invitation_passport_id"), "inspection_invitation", ["passport_id"]
    )
    op.create_table(
        "inspection_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("garage_id", sa.Integer(), nullable=False),
        sa.Column("passport_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("inspector", sa.String(length=120), nullable=False),
        sa.Column("inspection_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("send_updates", sa.Boolean(), nullable=False),
        sa.Column("still_adjusting", sa.Boolean(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["garage_id"], ["garage.id"]),
        sa.ForeignKeyConstraint(["invitation_id"], ["inspection_invitation.id"]),
        sa.ForeignKeyConstraint(["passport_id"], ["passport.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspection_form_garage_id", "inspection_form", ["garage_id", "id"])
    op.create_index(op.f("ix_inspection_form_passport_id"), "inspection_form", ["passport_id"])
    op.create_index(op.f("ix_inspection_form_plate"), "inspection_form", ["plate"])
    op.create_table(
        "inspection_form_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("mailed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["inspection_form.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "number"),
    )
    op.create_table(
        "performed_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["inspection_form.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_performed_work_form_id"), "performed_work", ["form_id"])
    op.create_table(
        "recall",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plate", "reference", name="uq_recall_plate_reference"),
    )
    op.create_index(op.f("ix_recall_plate"), "recall", ["plate"])
    checkpoint = sa.table(
        "checkpoint",
        sa.column("group_name", sa.String),
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
    )
    rows, position = [], 0
    for group, names in STANDARD_CHECKPOINTS.items():
        for name in names:
            position += 10
            rows.append({"group_name": group, "name": name, "position": position})
    op.bulk_insert(checkpoint, rows)


def downgrade():
    op.drop_index(op.f("ix_recall_plate"), table_name="recall")
    op.drop_table("recall")
    op.drop_index(op.f("ix_performed_work_form_id"), table_name="performed_work")
    op.drop_table("performed_work")
    op.drop_table("inspection_form_version")
    op.drop_index(op.f("ix_inspection_form_plate"), table_name="inspection_form")
    op.drop_index(op.f("ix_inspection_form_passport_id"), table_name="inspection_form")
    op.drop_index("ix_inspection_form_garage_id", table_name="inspection_form")
    op.drop_table("inspection_form")
    op.drop_index(op.f("ix_inspection_invitation_passport_id"), table_name="inspection_invitation")
    op.drop_index(op.f("ix_inspection_invitation_garage_id"), table_name="inspection_invitation")
    op.drop_table("inspection_invitation")
    op.drop_index(op.f("ix_checkpoint_garage_id"), table_name="checkpoint")
    op.drop_table("checkpoint")
