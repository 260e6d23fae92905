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

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, false, or_, select
from sqlalchemy.orm import Session, object_session, with_loader_criteria

from admin_app.domain.errors import NotFound
from admin_app.models import (
    ApiKey,
    ApkDigest,
    ApkReminder,
    AuditLog,
    BatchJob,
    Checkpoint,
    ConsoleUser,
    ContactProposal,
    Customer,
    FleetAccount,
    Garage,
    InspectionForm,
    InspectionInvitation,
    Invoice,
    OutboxMessage,
    Passport,
    PassportClaim,
    Task,
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
    ("Admin", EVERYTHING),
    ("Support", EVERYTHING),
    ("Garage", GARAGE),
    ("FleetManager", FLEET),
    ("Owner", OWNER),
)

TENANT_MODELS = (
    Garage,
    Customer,
    Passport,
    FleetAccount,
    AuditLog,
    OutboxMessage,
    Transfer,
    BatchJob,
    InspectionForm,
    InspectionInvitation,
    Checkpoint,
    Invoice,
    ContactProposal,
    Task,
    ApiKey,
    WebhookEndpoint,
    WebhookEvent,
    WebhookDelivery,
    ApkReminder,
    ApkDigest,
)


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
        ]

    def _criteria(self) -> dict:
        gid, fid, uid = self.garage_id, self.fleet_account_id, self.user_id
        nothing = lambda cls: false()  # noqa: E731
        if self.kind == GARAGE:
            return {
                Garage: lambda cls: cls.id == gid,
                Customer: lambda cls: cls.garage_id == gid,
                Passport: lambda cls: cls.garage_id == gid,
                FleetAccount: lambda cls: cls.garage_id == gid,
                AuditLog: lambda cls: cls.garage_id == gid,
                OutboxMessage: lambda cls: cls.garage_id == gid,
                Transfer: lambda cls: cls.garage_id == gid,
                BatchJob: lambda cls: cls.garage_id == gid,
                InspectionForm: lambda cls: cls.garage_id == gid,
                InspectionInvitation: lambda cls: cls.garage_id == gid,
                Checkpoint: lambda cls: or_(cls.garage_id.is_(None), cls.garage_id == gid),
                Invoice: lambda cls: cls.garage_id == gid,
                ContactProposal: lambda cls: cls.garage_id == gid,
                # Its own bulk tasks; Support's tasks across garages are Support's.
                Task: lambda cls: cls.garage_id == gid,
                ApiKey: lambda cls: cls.garage_id == gid,  # its own keys (issue 16)
                # Its own webhook endpoints, events and delivery logs (issue 16).
                WebhookEndpoint: lambda cls: cls.garage_id == gid,
                WebhookEvent: lambda cls: cls.garage_id == gid,
                WebhookDelivery: lambda cls: cls.garage_id == gid,
                # Its own APK reminders (issue 18), counted on the conversion dashboard.
                ApkReminder: lambda cls: cls.garage_id == gid,
                ApkDigest: lambda cls: cls.garage_id == gid,
                ConsoleUser: lambda cls: or_(cls.garage_id == gid, cls.id == uid),
            }
        if self.kind == FLEET:
            return {
                Garage: lambda cls: cls.id == gid,
                Passport: lambda cls: cls.fleet_account_id == fid,
                Customer: lambda cls: or_(
                    cls.id.in_(
                        select(Passport.owner_id)
                        .where(Passport.fleet_account_id == fid)
                        .correlate(None)
                    ),
                    cls.id.in_(
                        select(Passport.driver_id)
                        .where(Passport.fleet_account_id == fid)
                        .correlate(None)
                    ),
                ),
                FleetAccount: lambda cls: cls.id == fid,
                AuditLog: nothing,
                OutboxMessage: nothing,
                BatchJob: nothing,
                InspectionForm: nothing,
                InspectionInvitation: nothing,
                Checkpoint: nothing,
                Invoice: nothing,
                ContactProposal: nothing,
                Task: nothing,
                ApiKey: nothing,
                WebhookEndpoint: nothing,
                WebhookEvent: nothing,
                WebhookDelivery: nothing,
                ApkReminder: nothing,
                ApkDigest: nothing,
                Transfer: lambda cls: cls.passport_id.in_(
                    select(Passport.id).where(Passport.fleet_account_id == fid).correlate(None)
                ),
                ConsoleUser: lambda cls: cls.id == uid,
            }
        if self.kind == OWNER:
            # Looked up once when the scope is bound (scope_for_user).
            garage_ids, passport_ids = self.garage_ids, self.passport_ids
            visible_customer_ids = self.visible_customer_ids
            return {
                Customer: lambda cls: cls.id.in_(visible_customer_ids),
                Passport: lambda cls: cls.id.in_(passport_ids),
                Garage: lambda cls: cls.id.in_(garage_ids),
                FleetAccount: nothing,
                AuditLog: nothing,
                OutboxMessage: nothing,
                BatchJob: nothing,
                InspectionForm: nothing,
                InspectionInvitation: nothing,
                Checkpoint: nothing,
                Invoice: nothing,
                ContactProposal: nothing,
                Task: nothing,
                ApiKey: nothing,
                WebhookEndpoint: nothing,
                WebhookEvent: nothing,
                WebhookDelivery: nothing,
                ApkReminder: nothing,
                ApkDigest: nothing,
                # Transfers of his cars, and those he started (a car he sold).
                Transfer: lambda cls: or_(
                    cls.passport_id.in_(passport_ids), cls.created_by_id == uid
                ),
                ConsoleUser: lambda cls: cls.id == uid,
            }
        # Anonymous: no tenant rows at all. Users stay visible so that login works.
        return {model: nothing for model in TENANT_MODELS}


# Execution option for the few platform-wide checks a service must make whoever asks,
# e.g. "is this plate live at another garage?" — answered without revealing the row.
ALL_TENANTS = "console_all_tenants"

ANONYMOUS = Scope(NOTHING)
SYSTEM = Scope(EVERYTHING)


def scope_for_user(user) -> Scope:
    """The scope of a logged-in user, from its roles and tenant links."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    role_names = {role.name for role in user.roles}
    for role_name, kind in ROLE_SCOPES:
        if role_name not in role_names:
            continue
        if kind == GARAGE and user.garage_id:
            return Scope(GARAGE, user.id, garage_id=user.garage_id)
        if kind == FLEET and user.fleet_account_id:
            # A fresh query, not user.fleet_account: the user was loaded before the
            # scope was known, and a lazy load would inherit that query's criteria.
            session = object_session(user)
            garage_id = session.scalar(
                select(FleetAccount.garage_id).where(FleetAccount.id == user.fleet_account_id)
            )
            return Scope(
                FLEET, user.id, garage_id=garage_id, fleet_account_id=user.fleet_account_id
            )
        if kind == OWNER:
            # The cars he claimed by a mailed link, as owner or driver (PassportClaim): a
            # car a garage merely typed his address for shows him nothing. A handful of
            # ids, looked up once per request: no subquery per statement.
            session = object_session(user)
            claims = session.execute(
                select(PassportClaim.passport_id, PassportClaim.role).where(
                    PassportClaim.user_id == user.id
                )
            ).all()
            cars = {
                car.id: car
                for car in session.execute(
                    select(
                        Passport.id, Passport.garage_id, Passport.owner_id, Passport.driver_id
                    ).where(Passport.id.in_([c.passport_id for c in claims]))
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
        if kind == EVERYTHING:
            return Scope(EVERYTHING, user.id)
    return Scope(NOTHING, user.id)


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
