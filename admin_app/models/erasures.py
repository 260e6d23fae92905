from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.models.base import UTCDateTime, utcnow

# How the audit log names an erase's scope (services/erasure: CUSTOMER, PERSON).
ERASURE_SCOPE_LABELS = {
    "customer": _l("One garage's customer"),
    "person": _l("The person, at every garage, with the login"),
}


class Erasure(Model):
    """One erase a Support employee carried out (R-DR-2): what, at whose request, why, who.

    Holds no personal value of the erased person: the customer and login are kept as ids
    only (their rows now read "verwijderd"), so the record of the erase survives it.
    """

    __tablename__ = "erasure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # customer: one garage's customer row; person: every row with his e-mail, his login.
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    garage_id: Mapped[int | None] = mapped_column(Integer, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requested_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    erased_by_id: Mapped[int | None] = mapped_column(Integer)
    erased_by: Mapped[str] = mapped_column(String(200), nullable=False)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
