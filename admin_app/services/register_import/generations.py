"""Where an import's rows live until its switch, and what the switch keeps and purges
(issue 18). Each import writes a generation of its own (the import's id); on PostgreSQL a
dataset of millions of rows gets a table of its own, keyed once all rows are in and
attached as the generation's partition at the switch (migration 0026). Plates that
vanished from a file keep what the register knew, in the new generation.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table, delete, literal, select, text
from sqlalchemy.orm import Session

from admin_app.db import changed_rows
from admin_app.models import Recall, RecallDetail, RegisteredFuel, RegisteredVehicle
from admin_app.models.register import Dataset, current_generation
from admin_app.services.register_import.rows import WRITTEN

TABLES = {
    Dataset.vehicles.value: RegisteredVehicle.__table__,
    Dataset.fuel.value: RegisteredFuel.__table__,
    Dataset.recall_status.value: Recall.__table__,
    Dataset.recall_details.value: RecallDetail.__table__,
}
# The datasets of millions of rows (16.9 M vehicles, more fuels): on PostgreSQL each
# import writes a table of its own and attaches it as a partition (migration 0026).
PARTITIONED = (Dataset.vehicles.value, Dataset.fuel.value)
# What identifies a row when a vanished one is kept: a plate keeps its vehicle and its fuels,
# a reference its details. Recall status is not kept: a recall missing from a new status
# file is no longer open.
KEPT_BY = {
    Dataset.vehicles.value: "plate",
    Dataset.fuel.value: "plate",
    Dataset.recall_details.value: "reference",
}


def own_partition(session: Session, dataset: str, generation: int) -> Table:
    """PostgreSQL, a dataset of millions of rows: the table of the import's own rows, with
    neither key nor index while they arrive, attached as its generation's partition at the
    switch (migration 0026 says why). A table of that name left by an import that died is
    replaced."""
    parent = TABLES[dataset]
    own = parent.to_metadata(MetaData(), name=partition_name(dataset, generation))
    session.execute(text(f"DROP TABLE IF EXISTS {own.name}"))
    session.execute(
        text(
            f"CREATE TABLE {own.name} (LIKE {parent.name} INCLUDING DEFAULTS, "
            # Lets ATTACH PARTITION trust the rows instead of reading them all again.
            f"CHECK (generation = {int(generation)}))"
        )
    )
    return own


def partition_name(dataset: str, generation: int) -> str:
    return f"{TABLES[dataset].name}_g{int(generation)}"


def add_key(session: Session, dataset: str, own: Table) -> None:
    """The import's own table keyed as the register is, built once over all its rows (a
    sorted build, faster than keeping the key current row by row); a plate twice in the
    file fails it here as it would have failed the COPY. Before the copy of vanished
    plates, which then looks each old plate up in it: the first import's few old rows no
    longer hash a million new ones."""
    key = ", ".join(column.name for column in TABLES[dataset].primary_key.columns)
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    session.execute(text(f"ALTER TABLE {own.name} ADD PRIMARY KEY ({key})"))


def attach_partition(session: Session, dataset: str, own: Table, generation: int) -> None:
    """The import's own table becomes its generation's partition. Not committed: the
    switch commits it."""
    parent = TABLES[dataset]
    session.execute(
        text(
            f"ALTER TABLE {parent.name} ATTACH PARTITION {own.name} "
            f"FOR VALUES IN ({int(generation)})"
        )
    )


def purge(session: Session, dataset: str, *, before: int) -> None:
    """The generations readers no longer see go: on PostgreSQL a big dataset's partitions
    (and tables of imports that died before attaching theirs) are dropped whole, which
    leaves nothing for VACUUM; rows without a partition of their own are deleted."""
    table = TABLES[dataset]
    if dataset in PARTITIONED and session.get_bind().dialect.name == "postgresql":
        names = session.scalars(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = current_schema()::regnamespace AND relname ~ :pattern"
            ),
            {"pattern": f"^{table.name}_g[0-9]+$"},
        ).all()
        for name in names:
            if int(name.rsplit("_g", 1)[1]) < before:
                session.execute(text(f"DROP TABLE {name}"))
    session.execute(delete(table).where(table.c.generation < before))


def keep_vanished(session: Session, dataset: str, generation: int, into: Table) -> int:
    """Copy into ``into`` what the register knew of keys the new file lacks (a vanished
    plate keeps its values and the day it was last seen). Returns how many rows were
    kept."""
    key = KEPT_BY.get(dataset)
    if key is None:
        return 0
    table = TABLES[dataset]
    old = table.alias("old")
    new = into.alias("new")
    columns = [c for c in WRITTEN[dataset] if c != "generation"]
    kept = (
        select(literal(generation), *[old.c[c] for c in columns])
        .where(old.c.generation == current_generation(dataset))
        .where(
            ~select(new.c[key])
            .where(new.c.generation == generation, new.c[key] == old.c[key])
            .exists()
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # The anti-join hashes every plate of the new file: in memory, not in batches
        # written to disk by the 4 MB default.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    result = session.execute(into.insert().from_select(["generation", *columns], kept))
    return max(changed_rows(result), 0)
