from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship


class ConsoleUser(User):
    """FAB's user, tied to the tenant it works for.

    Single-table inheritance onto `ab_user`: FAB keeps its login, roles and password
    handling; we add the links that the row scope (admin_app.scope) reads.
    Owners are tied to the cars they claimed by a mailed link (PassportClaim).
    """

    garage_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("garage.id"), index=True)
    fleet_account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("fleet_account.id"), index=True
    )
    # Part of every session cookie and JWT: raising it ends them all (services/sessions).
    session_generation: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    garage = relationship("Garage", foreign_keys=[garage_id])
    fleet_account = relationship("FleetAccount", foreign_keys=[fleet_account_id])

    def get_full_name(self) -> str:
        """The name on screens (the navbar): a company's login (a fleet account,
        services/fleets) carries the company name as first and last name, since FAB
        requires both — it is named once, not "Bouwbedrijf Bakker Bouwbedrijf Bakker"."""
        first, last = (self.first_name or "").strip(), (self.last_name or "").strip()
        if last in ("", "-", first):
            return first or self.username
        return f"{first} {last}"

    def get_id(self) -> str:
        """Flask-Login's key for the session: the id and the session generation, so that a
        cookie made before the generation was raised loads no user."""
        return f"{self.id}:{self.session_generation or 0}"
