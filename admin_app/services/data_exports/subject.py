"""Whom an export is about: his customer rows, his e-mail, the garage it is limited to and
his cars there, read once when the build starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from admin_app.domain.errors import NotFound
from admin_app.models import ConsoleUser, Customer, DataExport, Passport
from admin_app.models.data_exports import GARAGE_CUSTOMER


@dataclass(frozen=True)
class Subject:
    """The person an export is about: his customer rows (one, or one per garage), his
    e-mail, the garage it is limited to (None: every garage) and the cars he owns or drives
    there."""

    customer_ids: tuple[int, ...]
    email: str
    garage_id: int | None
    passport_ids: tuple[int, ...]


def subject_of(session: Session, export: DataExport) -> Subject:
    """NotFound when the person is gone (erased) before his export was built."""
    if export.customer_id is None and export.owner_user_id is None:
        raise NotFound(_l("Not found."))
    if export.customer_id is not None:
        customer = session.get(Customer, export.customer_id)
        if customer is None:
            raise NotFound(_l("Not found."))
        email = customer.email.lower()
    else:
        user = session.get(ConsoleUser, export.owner_user_id)
        if user is None:
            raise NotFound(_l("Not found."))
        email = (user.email or "").lower()
    if export.scope == GARAGE_CUSTOMER:
        if export.customer_id is None:  # a garage's export is about one customer row
            raise NotFound(_l("Not found."))
        customer_ids: tuple[int, ...] = (export.customer_id,)
    else:
        customer_ids = tuple(
            session.scalars(
                select(Customer.id).where(func.lower(Customer.email) == email).order_by(Customer.id)
            )
        )
    passport_ids = tuple(
        session.scalars(
            select(Passport.id)
            .where(
                or_(Passport.owner_id.in_(customer_ids), Passport.driver_id.in_(customer_ids)),
                at_garage(Passport, export.garage_id),
            )
            .order_by(Passport.id)
        )
    )
    return Subject(customer_ids, email, export.garage_id, passport_ids)


def at_garage(model, garage_id: int | None):
    """The rows of the export's one garage, or of every garage for a whole person."""
    return model.garage_id == garage_id if garage_id is not None else true()
