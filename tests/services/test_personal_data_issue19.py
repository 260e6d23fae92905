"""Issue 19, R-DR-2: every text column of every table is classified as personal or not."""

from __future__ import annotations

import pytest
from flask_appbuilder import Model

import admin_app.models  # noqa: F401  (every model on the one metadata)
from admin_app.services.personal_data import (
    REGISTRY,
    Rule,
    Traces,
    is_text,
    unclassified,
    walk,
)
from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="reads the models, not a database")


def test_issue19_every_text_column_is_classified(app):
    """R-DR-2: a model that gains a text column fails here, naming it, until the registry
    says whether it holds a person's data and how it is erased."""
    missing = unclassified(Model.metadata.tables.values())
    assert not missing, f"classify in services/personal_data.REGISTRY: {', '.join(missing)}"


def test_issue19_the_registry_names_no_column_that_is_not_there(app):
    """R-DR-2: a renamed or dropped column does not linger in the registry unnoticed."""
    tables = Model.metadata.tables
    stale = [
        f"{table}.{column}"
        for table, columns in REGISTRY.items()
        for column in columns
        if table not in tables
        or column not in tables[table].c
        or not is_text(tables[table].c[column])
    ]
    assert not stale


def test_issue19_a_new_text_column_is_reported_by_name(app):
    """R-DR-2: the check reads the column types, custom ones included."""
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from admin_app.models.types import PlateType

    table = Table(
        "customer",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("email", String(10)),
        Column("nickname", String(10)),
        Column("spare_plate", PlateType),
    )
    assert unclassified([table]) == ["customer.nickname", "customer.spare_plate"]


def test_issue19_walk_replaces_his_values_and_keeps_the_rest():
    """R-DR-2: JSON keeps its shape; his values and personal keys read "verwijderd"."""
    traces = Traces(["jan@example.nl", "Jan de Vries", "12"])
    value = {
        "email": ["jan@example.nl", "jan2@example.nl"],
        "plate": "12ABC3",
        "note": ["Gebeld met Jan de Vries", 3],
    }
    assert walk(value, traces, by_key=True) == {
        "email": ["verwijderd", "verwijderd"],
        "plate": "12ABC3",
        "note": ["verwijderd", 3],
    }
    assert walk(value, traces, by_key=False)["email"] == ["verwijderd", "jan2@example.nl"]
    assert Rule.EMAIL in REGISTRY["customer"].values()


def test_issue19_use_walk_takes_an_object_quoting_him_as_his_record():
    """A payload's object with his e-mail holds his street and postcode too, which are no
    traces of their own (neighbours share them): its personal keys go with it."""
    traces = Traces(["jan@example.nl"])
    value = {
        "customer": {"email": "jan@example.nl", "street": "Lindelaan", "postcode": "9876 XY"},
        "neighbour": {"email": "piet@example.nl", "street": "Lindelaan"},
    }
    assert walk(value, traces, by_key=False) == {
        "customer": {"email": "verwijderd", "street": "verwijderd", "postcode": "verwijderd"},
        "neighbour": {"email": "piet@example.nl", "street": "Lindelaan"},
    }
