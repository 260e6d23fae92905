from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Integer, LargeBinary, String

from admin_app.models.base import UTCDateTime, utcnow


class Garage(Model):
    __tablename__ = "garage"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    # The "garage e-mail": a passport created with it is a stock car (R-PP-3).
    email = Column(String(320), nullable=False, unique=True)
    street = Column(String(200))
    house_number = Column(String(20))
    postcode = Column(String(10))
    city = Column(String(100))
    phone = Column(String(40))
    advice_followup_default = Column(Boolean, nullable=False, default=False)
    logo = Column(LargeBinary)
    logo_mimetype = Column(String(40))
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return self.name or f"Garage {self.id}"
