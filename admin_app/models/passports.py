from __future__ import annotations

import enum
from datetime import date, datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.domain.plates import display_plate
from admin_app.models.base import UTCDateTime, utcnow
from admin_app.models.types import PlateType


class PassportState(enum.StrEnum):
    created = "created"
    sent = "sent"
    activated = "activated"
    transfer_pending = "transfer_pending"
    archived = "archived"


STATE_LABELS = {
    PassportState.created.value: _l("Not sent"),
    PassportState.sent.value: _l("Sent"),
    PassportState.activated.value: _l("Activated"),
    PassportState.transfer_pending.value: _l("Transfer pending"),
    PassportState.archived.value: _l("Archived"),
}


CREATED_VIA_LABELS = {
    "manual": _l("By hand"),
    "list": _l("Customer list"),
    "api": _l("Management system (API)"),
}


class Passport(Model):
    """An AutoPaspoort: one per licence plate among passports that are not archived."""

    __tablename__ = "passport"
    __table_args__ = (
        # The plate is free again once its passport is archived (R-PP-8).
        Index(
            "uq_passport_live_plate",
            "plate",
            unique=True,
            sqlite_where=text("state != 'archived'"),
            postgresql_where=text("state != 'archived'"),
        ),
        Index("ix_passport_garage_state", "garage_id", "state"),
        Index("ix_passport_garage_id_desc", "garage_id", "id"),
        # Only the cars that have a driver or a fleet account (most have neither).
        *(
            Index(
                f"ix_passport_{column}",
                column,
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("driver_id", "fleet_account_id")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(Integer, ForeignKey("garage.id"), nullable=False)
    plate: Mapped[str] = mapped_column(PlateType, nullable=False, index=True)
    brand: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(80))
    fuel: Mapped[str | None] = mapped_column(String(30))
    first_registration: Mapped[date | None] = mapped_column(Date)
    apk_expiry: Mapped[date | None] = mapped_column(Date)
    next_service: Mapped[date | None] = mapped_column(Date)
    mobility_renewal: Mapped[date | None] = mapped_column(Date)
    odometer: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customer.id"), nullable=False, index=True
    )
    driver_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("customer.id"))
    fleet_account_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("fleet_account.id"))
    # When the car joined its current fleet (issue 15, R-FL-5): the fleet manager reads in
    # full only the inspection forms made since; NULL (linked before this was kept) counts
    # as "unknown", so he sees none of an earlier owner's customer data.
    fleet_linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stock_car: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(
        String(20), nullable=False, default=PassportState.created.value, index=True
    )
    created_via: Mapped[str] = mapped_column(String(20), nullable=False, default="manual")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    garage = relationship("Garage", lazy="joined", innerjoin=True)
    owner = relationship("Customer", foreign_keys=[owner_id], lazy="joined", innerjoin=True)
    driver = relationship("Customer", foreign_keys=[driver_id], lazy="joined")
    fleet_account = relationship("FleetAccount", foreign_keys=[fleet_account_id], lazy="joined")

    @property
    def plate_display(self) -> str:
        return display_plate(self.plate)

    @property
    def email(self) -> str:
        return self.owner.email if self.owner else ""

    @property
    def customer_id(self) -> int:
        return self.owner_id

    # Display helpers for the screens (FAB lists accept properties by name).
    def plate_label(self) -> str:
        return self.plate_display

    def owner_name(self) -> str:
        return self.owner.full_name if self.owner else ""

    def owner_email(self) -> str:
        return self.email

    def created_via_label(self) -> str:
        return str(CREATED_VIA_LABELS.get(self.created_via, self.created_via))

    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))

    def __repr__(self) -> str:
        return self.plate_display


@event.listens_for(Passport.fleet_account_id, "set", active_history=True)
def _stamp_fleet_link(passport, value, previous, initiator):
    """Keep fleet_linked_at with every change of fleet. Cars join and leave fleets in six
    places (a new passport, link, unlink, an accepted transfer, archive, bulk actions); a
    stamp forgotten in one would show a fleet manager the customer block of forms made for
    the car's earlier owner. Like the audit log, kept where no path can forget it."""
    if value == previous:
        return
    passport.fleet_linked_at = utcnow() if value is not None else None


class PassportClaim(Model):
    """An Owner login's hold on a car, as its owner or its driver (issue 13).

    Made only through a mailed link — activating the passport, accepting its transfer,
    taking up driver access — and dropped when the car gets another owner or driver. An
    Owner sees the cars he claimed (admin_app.scope), never a car only because a garage
    typed his address.
    """

    __tablename__ = "passport_claim"

    passport_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("passport.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True)  # owner, driver
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
