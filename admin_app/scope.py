"""THE row-level scope (R-SEC-1): who may see which rows, applied in one place.

Every ORM SELECT, UPDATE and DELETE that runs inside a request gets loader criteria for
the current user's tenant, so list, detail, edit, delete, search, related-field dropdowns,
exports, actions and the REST API cannot reach another tenant's rows, whatever the view
does. A flush that would put a row into another tenant is refused the same way.

The scope is computed once per request (``bind_request_scope``) and kept on ``g``;
the listener never touches ``current_user`` itself (that would recurse: loading the user
is an ORM query too). Jobs and CLI commands run without a request and so unscoped: they
take ids and act for the system, as the audit log records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, false, or_, select
from sqlalchemy.orm import Session, object_session, with_loader_criteria

from admin_app import roles
from admin_app.domain.errors import NotFound
from admin_app.models import (
    ApiKey,
    ApkDigest,
    ApkReminder,
    AuditLog,
    BatchJob,
    BatchRow,
    Checkpoint,
    ConsoleUser,
    ContactProposal,
    Customer,
    CustomerSearch,
    DataExport,
    Erasure,
    ExportFile,
    FleetAccount,
    Garage,
    InspectionForm,
    InspectionFormVersion,
    InspectionInvitation,
    Invoice,
    OutboxMessage,
    Passport,
    PassportClaim,
    PassportSearch,
    PerformedWork,
    Task,
    TaskRow,
    Transfer,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

EVERYTHING = "everything"  # Admin, Support
GARAGE = "garage"
FLEET = "fleet"
OWNER = "owner"
NOTHING = "nothing"  # anonymous, or a user without a known role

# Role names, in the order a user with several roles is scoped by.
ROLE_SCOPES = (
    (roles.ADMIN, EVERYTHING),
    (roles.SUPPORT, EVERYTHING),
    (roles.GARAGE, GARAGE),
    (roles.FLEET_MANAGER, FLEET),
    (roles.OWNER, OWNER),
)


# --- Which models the scope governs ----------------------------------------------------------
#
# A TENANT MODEL is Garage (the tenant itself) and every mapped model with a tenant column:
# `garage_id` or `fleet_account_id`, or a foreign key to a tenant model's table (so a
# customer link, a passport link, and a child such as batch_row → batch_job count). A link
# to a login (`ab_user`) does not make one: a login's own rows (tokens, calendar feeds,
# idempotency keys) are checked by the services against the asking user.
#
# The scope FAILS CLOSED: every tenant model is filtered for every role that does not see
# everything — by the role's criterion below or, when the role's criteria do not name the
# model, by `false()`. A new table with a garage_id shows nothing to a garage, a fleet
# manager or an owner until someone writes who sees it. tests/services/
# test_scope_issue20.py enumerates the models by this definition.
TENANT_COLUMNS = frozenset({"garage_id", "fleet_account_id"})
NOT_A_TENANT_LINK = frozenset({"ab_user"})

# Children reached only through a scoped parent — the one list of them. The rule: such a
# child is never queried on its own inside a request; code reads it by its parent's id
# after loading the parent through the scope (`scoped_get(session, BatchJob, id)`, then
# its rows). So it carries no criteria of its own, which spares a subquery per statement
# over a 100,000-row list. Code that must select them per garage (services/erasure.py)
# goes through `parent_of`.
REACHED_THROUGH_PARENT: dict[Any, tuple[Any, Any]] = {
    BatchRow: (BatchRow.batch_job_id, BatchJob),
    InspectionFormVersion: (InspectionFormVersion.form_id, InspectionForm),
    PerformedWork: (PerformedWork.form_id, InspectionForm),
    TaskRow: (TaskRow.task_id, Task),
    # The counter's search copy: read joined to its customer or passport
    # (services/search_copy.customers_matching, passports_matching).
    CustomerSearch: (CustomerSearch.customer_id, Customer),
    PassportSearch: (PassportSearch.passport_id, Passport),
}

# Tenant models the scope leaves alone on purpose, each with the reason. Every other
# tenant model is governed (and so fails closed).
UNSCOPED: dict[Any, str] = {
    PassportClaim: "read to bind the scope itself (before it is known) and by "
    "services/passports.holds_car for the asking login; an erase deletes a person's "
    "claims across garages. Never listed on a screen.",
    DataExport: "the asker's own (R-DR-1): services/data_exports reads one by its id and "
    "requested_by_id, not even a colleague's at the same garage.",
    ExportFile: "the asker's own list export: services/export_files reads one by its id "
    "and user_id.",
    Erasure: "Support's record of an erase (R-DR-2), ids only: written by the erase, read "
    "by no screen.",
}


def tenant_links(mapper, tenant_tables) -> list[str]:
    """The mapper's columns that tie its rows to a tenant (see the definition above)."""
    links = []
    for column in mapper.columns:
        if column.name in TENANT_COLUMNS or any(
            fk.column.table.name in tenant_tables and fk.column.table.name not in NOT_A_TENANT_LINK
            for fk in getattr(column, "foreign_keys", ())
        ):
            links.append(column.name)
    return links


def tenant_models() -> list[type]:
    """Every mapped tenant model, children included, by name."""
    found, tables = {Garage}, {Garage.__tablename__}
    grew = True
    while grew:  # until no model links to one found: a child of a child counts too
        grew = False
        for mapper in Garage.registry.mappers:
            if mapper.class_ not in found and tenant_links(mapper, tables):
                found.add(mapper.class_)
                tables.add(mapper.local_table.name)
                grew = True
    return sorted(found, key=lambda model: model.__name__)


def parent_of(table_name: str):
    """(link column name, parent model) of a child reached through a scoped parent, or
    None for any other table."""
    for child, (link, parent) in REACHED_THROUGH_PARENT.items():
        if child.__tablename__ == table_name:
            return link.key, parent
    return None


# The models every statement is filtered on, for every role but Admin and Support.
TENANT_MODELS = tuple(
    model
    for model in tenant_models()
    if model not in REACHED_THROUGH_PARENT and model not in UNSCOPED
)

# A role's criterion saying "every row, unfiltered" (anonymous users must find a login).
EVERY_ROW = None


def _nothing(cls):
    return false()


@dataclass(frozen=True)
class Scope:
    kind: str
    user_id: int | None = None
    garage_id: int | None = None
    fleet_account_id: int | None = None
    email: str | None = None
    garage_ids: tuple[int, ...] = ()
    # His profiles plus the other party on his cars (a driver sees the owner's name).
    visible_customer_ids: tuple[int, ...] = ()
    passport_ids: tuple[int, ...] = ()  # an Owner's claimed cars

    @property
    def sees_everything(self) -> bool:
        return self.kind == EVERYTHING

    def loader_criteria(self) -> list:
        """with_loader_criteria options restricting each tenant model to this scope."""
        return [
            with_loader_criteria(model, criterion, include_aliases=True)
            for model, criterion in self._criteria().items()
            if criterion is not EVERY_ROW
        ]

    def _criteria(self) -> dict:
        """Each tenant model's criterion: the role's own, else nothing (fails closed)."""
        granted = GRANTS[self.kind](self) if self.kind in GRANTS else {}
        return {model: granted.get(model, _nothing) for model in TENANT_MODELS}


# What each kind of scope sees, per tenant model. A model a kind does not name here shows
# it nothing (Scope._criteria). The lambdas are SQLAlchemy's cached criteria: each reads
# the scope's values through its closure, so two owners never share one's ids.


# A garage's rows by their garage_id, named one by one: a new tenant model shows a garage
# nothing until it is named here or given a rule of its own.
GARAGE_ROWS = (
    Customer,
    Passport,
    FleetAccount,
    AuditLog,
    OutboxMessage,
    Transfer,
    BatchJob,
    InspectionForm,
    InspectionInvitation,
    Invoice,
    ContactProposal,
    Task,  # its own bulk tasks; Support's tasks across garages are Support's
    ApiKey,  # its own keys (issue 16)
    WebhookEndpoint,  # its own webhook endpoints, events and delivery logs (issue 16)
    WebhookEvent,
    WebhookDelivery,
    ApkReminder,  # its own APK reminders (issue 18), counted on the conversion dashboard
    ApkDigest,
)


def _garage_sees(scope: Scope) -> dict:
    gid, uid = scope.garage_id, scope.user_id
    by_garage_id = lambda cls: cls.garage_id == gid  # noqa: E731
    return {
        **{model: by_garage_id for model in GARAGE_ROWS},
        Garage: lambda cls: cls.id == gid,
        Checkpoint: lambda cls: or_(cls.garage_id.is_(None), cls.garage_id == gid),
        ConsoleUser: lambda cls: or_(cls.garage_id == gid, cls.id == uid),  # colleagues
    }


def _fleet_manager_sees(scope: Scope) -> dict:
    gid, fid, uid = scope.garage_id, scope.fleet_account_id, scope.user_id
    return {
        Garage: lambda cls: cls.id == gid,
        Passport: lambda cls: cls.fleet_account_id == fid,
        Customer: lambda cls: or_(
            cls.id.in_(
                select(Passport.owner_id).where(Passport.fleet_account_id == fid).correlate(None)
            ),
            cls.id.in_(
                select(Passport.driver_id).where(Passport.fleet_account_id == fid).correlate(None)
            ),
        ),
        FleetAccount: lambda cls: cls.id == fid,
        Transfer: lambda cls: cls.passport_id.in_(
            select(Passport.id).where(Passport.fleet_account_id == fid).correlate(None)
        ),
        ConsoleUser: lambda cls: cls.id == uid,
    }


def _owner_sees(scope: Scope) -> dict:
    # Looked up once when the scope is bound (scope_for_user).
    garage_ids, passport_ids = scope.garage_ids, scope.passport_ids
    visible_customer_ids, uid = scope.visible_customer_ids, scope.user_id
    return {
        Customer: lambda cls: cls.id.in_(visible_customer_ids),
        Passport: lambda cls: cls.id.in_(passport_ids),
        Garage: lambda cls: cls.id.in_(garage_ids),
        # Transfers of his cars, and those he started (a car he sold).
        Transfer: lambda cls: or_(cls.passport_id.in_(passport_ids), cls.created_by_id == uid),
        ConsoleUser: lambda cls: cls.id == uid,
    }


def _nobody_sees(scope: Scope) -> dict:
    # Anonymous: no tenant rows at all. Users stay visible so that login works.
    return {ConsoleUser: EVERY_ROW}


GRANTS = {
    GARAGE: _garage_sees,
    FLEET: _fleet_manager_sees,
    OWNER: _owner_sees,
    NOTHING: _nobody_sees,
}


# Execution option for the few platform-wide checks a service must make whoever asks,
# e.g. "is this plate live at another garage?" — answered without revealing the row.
ALL_TENANTS = "console_all_tenants"

ANONYMOUS = Scope(NOTHING)
SYSTEM = Scope(EVERYTHING)


def scope_for_user(user) -> Scope:
    """The scope of a logged-in user, from its roles and tenant links: the first of his
    roles (in ROLE_SCOPES' order) whose tenant link he has."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    role_names = {role.name for role in user.roles}
    for role_name, kind in ROLE_SCOPES:
        if role_name in role_names:
            scope = _SCOPE_OF_KIND[kind](user)
            if scope is not None:
                return scope
    return Scope(NOTHING, user.id)


def _everything_scope(user) -> Scope:
    return Scope(EVERYTHING, user.id)


def _garage_scope(user) -> Scope | None:
    """None for a Garage login tied to no garage: his next role decides."""
    if not user.garage_id:
        return None
    return Scope(GARAGE, user.id, garage_id=user.garage_id)


def _fleet_scope(user) -> Scope | None:
    if not user.fleet_account_id:
        return None
    # A fresh query, not user.fleet_account: the user was loaded before the scope was
    # known, and a lazy load would inherit that query's criteria.
    garage_id = _session_of(user).scalar(
        select(FleetAccount.garage_id).where(FleetAccount.id == user.fleet_account_id)
    )
    return Scope(FLEET, user.id, garage_id=garage_id, fleet_account_id=user.fleet_account_id)


def _owner_scope(user) -> Scope:
    # The cars he claimed by a mailed link, as owner or driver (PassportClaim): a car a
    # garage merely typed his address for shows him nothing. A handful of ids, looked up
    # once per request: no subquery per statement.
    session = _session_of(user)
    claims = session.execute(
        select(PassportClaim.passport_id, PassportClaim.role).where(
            PassportClaim.user_id == user.id
        )
    ).all()
    cars = {
        car.id: car
        for car in session.execute(
            select(Passport.id, Passport.garage_id, Passport.owner_id, Passport.driver_id).where(
                Passport.id.in_([c.passport_id for c in claims])
            )
        )
    }
    held = [(cars[c.passport_id], c.role) for c in claims if c.passport_id in cars]
    mine = {car.owner_id if role == "owner" else car.driver_id for car, role in held}
    others = {cid for car, _ in held for cid in (car.owner_id, car.driver_id) if cid}
    return Scope(
        OWNER,
        user.id,
        email=(user.email or "").lower(),
        garage_ids=tuple(sorted({car.garage_id for car, _ in held})),
        visible_customer_ids=tuple(sorted(mine | others)),
        passport_ids=tuple(sorted(cars)),
    )


def _session_of(user) -> Session:
    session = object_session(user)
    if session is None:  # a detached user: his tenant links cannot be read
        raise RuntimeError("the scope is bound for a user loaded in a session")
    return session


# How each kind of scope is bound for a user; None: the role lacks its tenant link.
_SCOPE_OF_KIND = {
    EVERYTHING: _everything_scope,
    GARAGE: _garage_scope,
    FLEET: _fleet_scope,
    OWNER: _owner_scope,
}


def current_scope() -> Scope | None:
    """The scope in force, or None outside a request (jobs, CLI: unscoped)."""
    if not has_request_context():
        return None
    return g.get("scope", ANONYMOUS)


def bind_request_scope(user) -> Scope:
    # Reading the user's own tenant links must not be filtered by a scope not yet known.
    g.scope = SYSTEM
    g.scope = scope_for_user(user)
    return g.scope


def scoped_get(session: Session, model, ident):
    """The row with this id if the current scope holds it, else None.

    Use this, not ``session.get()``, for tenant rows: ``get`` answers from the identity map
    without SQL, so a row loaded earlier by a platform-wide check would slip through.
    """
    if ident in (None, ""):
        return None
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        return None
    if not 0 < ident < 2**31:
        return None  # names no row (32-bit keys); SQLite raised OverflowError past 64 bits
    return session.scalars(select(model).where(model.id == ident)).unique().first()


def get_across_tenants(session: Session, model, ident):
    """The row with this id whatever the scope. Only for code authorized otherwise: a
    mailed token, or a platform-wide rule that never shows the row itself."""
    return (
        session.scalars(
            select(model).where(model.id == ident).execution_options(**{ALL_TENANTS: True})
        )
        .unique()
        .first()
    )


@contextmanager
def unscoped() -> Iterator[None]:
    """Run a block as the system inside a request: for public token pages (a reset or
    activation link), whose token itself is the authorization."""
    if not has_request_context():
        yield
        return
    previous = g.get("scope", ANONYMOUS)
    g.scope = SYSTEM
    try:
        yield
    finally:
        g.scope = previous


def _apply_scope(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Relationship and column loads inherit the criteria of the query that loaded
    # their parent (propagate_to_loaders), so adding them again is redundant.
    if state.is_column_load or state.is_relationship_load:
        return
    scope = current_scope()
    if scope is None or scope.sees_everything:
        return
    if state.execution_options.get(ALL_TENANTS):
        return
    state.statement = state.statement.options(*scope.loader_criteria())


def _guard_writes(session: Session, flush_context, instances) -> None:
    """Refuse a flush that would create or move a row into another garage (leak 4)."""
    scope = current_scope()
    if scope is None or scope.sees_everything:
        return
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, (Customer, Passport, FleetAccount, WebhookEndpoint)):
            continue
        if scope.kind == GARAGE:
            if obj.garage_id is None:
                obj.garage_id = scope.garage_id
            elif obj.garage_id != scope.garage_id:
                raise NotFound(_l("Not found."))
        elif scope.kind in (FLEET, OWNER) and obj in session.new and not isinstance(obj, Customer):
            # Fleet managers and owners never create passports, fleet accounts or webhook
            # endpoints; a
            # transfer they start may create the new owner's customer profile.
            raise NotFound(_l("Not found."))


def install(session_class=Session) -> None:
    """Register the listeners once per process (idempotent)."""
    if not event.contains(session_class, "do_orm_execute", _apply_scope):
        event.listen(session_class, "do_orm_execute", _apply_scope)
        event.listen(session_class, "before_flush", _guard_writes)
