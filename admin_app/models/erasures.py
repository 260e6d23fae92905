from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Date, Integer, String

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

    id = Column(Integer, primary_key=True)
    # customer: one garage's customer row; person: every row with his e-mail, his login.
    scope = Column(String(10), nullable=False)
    customer_id = Column(Integer, index=True)
    garage_id = Column(Integer, index=True)
    user_id = Column(Integer)
    customers = Column(Integer, nullable=False, default=0)
    requested_on = Column(Date, nullable=False)
    reason = Column(String(500), nullable=False)
    erased_by_id = Column(Integer)
    erased_by = Column(String(200), nullable=False)
    erased_at = Column(UTCDateTime, nullable=False, default=utcnow)
