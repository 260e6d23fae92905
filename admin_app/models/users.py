from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import relationship


class ConsoleUser(User):
    """FAB's user, tied to the tenant it works for.

    Single-table inheritance onto `ab_user`: FAB keeps its login, roles and password
    handling; we add the links that the row scope (admin_app.scope) reads.
    Owners are tied by their e-mail, which identifies their customer profiles.
    """

    garage_id = Column(Integer, ForeignKey("garage.id"), index=True)
    fleet_account_id = Column(Integer, ForeignKey("fleet_account.id"), index=True)

    garage = relationship("Garage", foreign_keys=[garage_id])
    fleet_account = relationship("FleetAccount", foreign_keys=[fleet_account_id])
