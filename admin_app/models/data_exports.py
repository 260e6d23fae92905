"""A customer's data export (issue 19, R-DR-1): one ZIP of what the console holds about him.

The row holds ids only — who asked, about whom, how wide — never a name or an address:
the ZIP on disk is the one place his data is gathered, and it is deleted when it expires.
"""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow

BUILDING, READY, FAILED = "building", "ready", "failed"
DATA_EXPORT_STATES = (BUILDING, READY, FAILED)
DATA_EXPORT_STATE_LABELS = {
    BUILDING: _l("Being made"),
    READY: _l("Ready to download"),
    FAILED: _l("Failed"),
}

# How wide an export looks: the one garage's customer row, or the person at every garage
# where his e-mail is a customer (an Owner about himself, or Support at his request).
GARAGE_CUSTOMER, PERSON = "garage", "person"
DATA_EXPORT_SCOPES = (GARAGE_CUSTOMER, PERSON)
DATA_EXPORT_SCOPE_LABELS = {
    GARAGE_CUSTOMER: _l("This garage's customer"),
    PERSON: _l("The person at every garage"),
}


class DataExport(Model):
    __tablename__ = "data_export"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The login that asked: the only one who may download it.
    requested_by_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # About whom: a customer row, or (an Owner's own export) his login.
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("customer.id", ondelete="SET NULL"), index=True
    )
    owner_user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL")
    )
    # The customer's garage for a garage's export; None when it spans every garage.
    garage_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("garage.id", ondelete="SET NULL"), index=True
    )
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=BUILDING)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # percent
    file_path: Mapped[str | None] = mapped_column(
        String(500)
    )  # under DATA_EXPORT_FOLDER, named by the id only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Set by the worker that builds it: a second delivery of the job leaves it alone.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)

    def state_label(self) -> str:
        return str(DATA_EXPORT_STATE_LABELS.get(self.state, self.state))
