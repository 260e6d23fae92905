from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.models.base import UTCDateTime, utcnow

# A profile's contact details besides the e-mail, in the order people fill them in.
CONTACT_FIELDS = (
    "first_name",
    "infix",
    "last_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "phone",
    "customer_number",
)


class Customer(Model):
    """An owner or driver profile, per garage, identified by e-mail (case-insensitive)."""

    __tablename__ = "customer"
    __table_args__ = (
        # The importer's lookup; a plain lower(email) equality may be planned on the
        # trigram index (pg_trgm answers `=` too), which is slow for common trigrams.
        Index("ix_customer_garage_email", "garage_id", func.lower("email")),
        Index("ix_customer_email_lower", func.lower("email")),
        Index("ix_customer_garage_last_name", "garage_id", "last_name"),
        # The few bounced addresses, for the home pages' "Onjuiste e-mails" (issue 15).
        Index(
            "ix_customer_bounced",
            "garage_id",
            sqlite_where=text("email_bounced_at IS NOT NULL"),
            postgresql_where=text("email_bounced_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    garage_id: Mapped[int] = mapped_column(Integer, ForeignKey("garage.id"), nullable=False)
    first_name: Mapped[str | None] = mapped_column(String(100))
    infix: Mapped[str | None] = mapped_column(String(40))
    last_name: Mapped[str] = mapped_column(String(150), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    customer_number: Mapped[str | None] = mapped_column(String(40), index=True)
    # Set when the mail server refused this address at RCPT (R-PP-5).
    email_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Never" (R-CP-2): set by the garage or by the customer's opt-out link.
    never_contact: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    garage = relationship("Garage", lazy="joined", innerjoin=True)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.infix, self.last_name) if p)

    def __repr__(self) -> str:
        return f"{self.full_name} <{self.email}>"
