"""Which login holds a car as its owner or driver: the one that followed its mailed link."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from admin_app.models import (
    PassportClaim,
)

OWNER_CLAIM, DRIVER_CLAIM = "owner", "driver"


def claim_car(session: Session, passport_id: int, user_id: int, role: str) -> None:
    """The login that followed a mailed link holds the car as its owner or driver; an
    earlier holder of that role lets go."""
    release_claim(session, passport_id, role)
    session.add(PassportClaim(passport_id=passport_id, role=role, user_id=user_id))
    session.flush()


def release_claim(session: Session, passport_id: int, role: str) -> None:
    """The car has another owner or driver: whoever held it in that role sees it no more."""
    session.execute(
        delete(PassportClaim).where(
            PassportClaim.passport_id == passport_id, PassportClaim.role == role
        )
    )


def holds_car(session: Session, passport_id: int, user_id: int | None, role: str) -> bool:
    claim = session.get(PassportClaim, (passport_id, role))
    return claim is not None and user_id is not None and claim.user_id == user_id
