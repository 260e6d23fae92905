"""The counter's search copy: the text its search box matches anywhere inside (a part of a
name, an e-mail or a plate), in tables of their own.

On PostgreSQL these columns carry the trigram indexes (migration 0029) that used to sit on
customer and passport. Keeping them up to date is most of what writing a customer or a
passport costs (issue 20: a 100,000-row list took 1.2 s longer with them), so the
importer's new rows are copied here after its run is done, and everything else in the same
transaction as its change (services/search_copy.py).
"""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class CustomerSearch(Model):
    """A customer's last name and e-mail, in lower case."""

    __tablename__ = "customer_search"

    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    last_name: Mapped[str] = mapped_column(String(150), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False)


class PassportSearch(Model):
    """A passport's plate, normalized (R-PP-2)."""

    __tablename__ = "passport_search"

    passport_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("passport.id", ondelete="CASCADE"), primary_key=True
    )
    plate: Mapped[str] = mapped_column(String(16), nullable=False)
