"""Issue 20: the row scope fails closed (R-SEC-1), its children and exceptions are named in
one place, and the role names are constants.

A TENANT MODEL, as admin_app/scope.py defines it: Garage, and every mapped model with a
column `garage_id` or `fleet_account_id`, or a foreign key to a tenant model's table (a
child of a child counts). A foreign key to a login (`ab_user`) does not make one. The
enumeration below is written out again on purpose, so that the scope's own cannot drift.
"""

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app import roles, scope
from admin_app.models import ConsoleUser, Customer, FleetAccount, Garage, Invoice, Passport
from admin_app.services.erasure import scrub as erasure_scrub
from tests.services.test_scope import _as

ROLE_KINDS = (scope.GARAGE, scope.FLEET, scope.OWNER, scope.NOTHING)


def _tenant_models_by_definition() -> set:
    mappers = list(Garage.registry.mappers)
    models, tables = {Garage}, {"garage"}

    def links(mapper) -> bool:
        return any(
            column.name in ("garage_id", "fleet_account_id")
            or any(fk.column.table.name in tables - {"ab_user"} for fk in column.foreign_keys)
            for column in mapper.columns
        )

    while more := [m for m in mappers if m.class_ not in models and links(m)]:
        models |= {m.class_ for m in more}
        tables |= {m.local_table.name for m in more}
    return models


def test_issue20_every_tenant_model_is_scoped_or_named_with_a_reason():
    """R-SEC-1: a model with a tenant column is filtered by the scope, or named as a child
    of a scoped parent, or named as unscoped with its reason — never forgotten."""
    found = _tenant_models_by_definition()
    assert {Garage, Customer, Passport, Invoice, ConsoleUser} <= found  # the definition works
    forgotten = sorted(
        model.__name__
        for model in found
        if model not in scope.TENANT_MODELS
        and model not in scope.REACHED_THROUGH_PARENT
        and model not in scope.UNSCOPED
    )
    assert not forgotten, f"tenant models the scope neither filters nor names: {forgotten}"
    assert set(scope.tenant_models()) == found
    for model, reason in scope.UNSCOPED.items():
        assert model in found and len(reason) > 30, model.__name__
    assert not set(scope.UNSCOPED) & set(scope.REACHED_THROUGH_PARENT)


@pytest.mark.parametrize("kind", ROLE_KINDS)
def test_issue20_each_role_filters_every_tenant_model(kind):
    """R-SEC-1: every role but Admin and Support gets a criterion for every tenant model;
    a model its grants do not name is `false()` (fails closed)."""
    criteria = scope.Scope(kind, 1, garage_id=1, fleet_account_id=1)._criteria()
    missing = sorted(m.__name__ for m in scope.TENANT_MODELS if m not in criteria)
    assert not missing, f"{kind} has no criterion for {missing}"
    granted = scope.GRANTS[kind](scope.Scope(kind, 1))
    for model in scope.TENANT_MODELS:
        if model not in granted:
            assert str(criteria[model](model)) == "false", (kind, model.__name__)


def test_issue20_a_tenant_model_missing_from_a_roles_criteria_shows_it_nothing(
    app, world, monkeypatch
):
    """R-SEC-1: drop fleet accounts from the garage's criteria and the garage sees none;
    a fleet manager, whose criteria never name invoices, sees no invoice."""
    garage_sees = scope.GRANTS[scope.GARAGE]

    def without_fleets(s):
        return {m: c for m, c in garage_sees(s).items() if m is not FleetAccount}

    ctx = _as(app, world, "garage-jansen")
    try:
        assert world.session.scalars(select(FleetAccount)).all()  # its own, as a rule
        assert world.session.scalars(select(Invoice)).all()
        monkeypatch.setitem(scope.GRANTS, scope.GARAGE, without_fleets)
        ctx.pop()
        ctx = _as(app, world, "garage-jansen")
        assert world.session.scalars(select(FleetAccount)).all() == []
        assert world.session.scalars(select(Customer)).all()  # the rest as before
    finally:
        ctx.pop()
    ctx = _as(app, world, "fleet-bakker")
    try:
        assert world.session.scalars(select(Invoice)).all() == []
    finally:
        ctx.pop()


def test_issue20_children_are_named_with_their_parent_and_erasure_uses_them():
    """R-SEC-1, R-DR-2: each child reached through a scoped parent links to that parent's
    table, carries no criteria of its own, and the erase selects it per garage through
    its parent (the one list, not a copy)."""
    for child, (link, parent) in scope.REACHED_THROUGH_PARENT.items():
        assert {fk.column.table.name for fk in link.property.columns[0].foreign_keys} == {
            parent.__tablename__
        }, child.__name__
        assert child not in scope.TENANT_MODELS
        assert "garage_id" in parent.__table__.c
        where = erasure_scrub.garage_scope(child.__table__, 7)
        assert where is not None, f"the erase cannot scope {child.__tablename__}"
        assert parent.__tablename__ in str(where)


# String constants that equal a role name but are no role: a class named in
# relationship("Garage"), a permission name, a model in __all__, a text to translate.
_NOT_A_ROLE_CALLS = {"relationship", "_", "_l", "lazy_gettext", "gettext"}


def _role_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in _NOT_A_ROLE_CALLS:
                skip.update(id(a) for a in node.args)
        elif isinstance(node, ast.Assign):
            targets = {getattr(t, "id", None) for t in node.targets}
            if targets & {"__all__", "class_permission_name"}:
                skip.update(id(n) for n in ast.walk(node.value))
    return [
        f"{path}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in roles.BUILTIN_ROLES
        and id(node) not in skip
    ]


def test_issue20_role_names_are_constants():
    """Role names are admin_app.roles' constants (ADMIN, GARAGE, SUPPORT, FLEET_MANAGER,
    OWNER), not string literals: a typo in a literal silently grants or refuses."""
    root = Path(__file__).resolve().parents[2] / "admin_app"
    found = [
        hit
        for path in sorted(root.rglob("*.py"))
        if path != root / "roles.py"
        for hit in _role_literals(path)
    ]
    assert not found, "role names as literals:\n" + "\n".join(found)
