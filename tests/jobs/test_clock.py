"""The worker's clock runs what is due: expired transfers go back (R-TR-2)."""

from datetime import timedelta

from sqlalchemy import select

from admin_app.jobs.clock import tick
from admin_app.models import AuditLog, Passport, Transfer
from admin_app.models.base import utcnow


def test_r_tr_2_the_clock_expires_transfers_after_14_days(app, world):
    s = world.session
    pending = s.scalars(select(Transfer).where(Transfer.state == "pending")).all()
    assert pending
    tick(app)
    s.expire_all()
    assert all(t.state == "pending" for t in s.scalars(select(Transfer)))
    for transfer in pending:
        transfer.expires_at = utcnow() - timedelta(seconds=1)
    s.commit()
    tick(app)
    s.expire_all()
    for transfer in pending:
        t = s.get(Transfer, transfer.id)
        assert t.state == "expired"
        passport = s.get(Passport, t.passport_id)
        assert passport.state == "activated" and passport.stock_car
    entry = s.scalars(
        select(AuditLog).where(AuditLog.table_name == "transfer").order_by(AuditLog.id.desc())
    ).first()
    assert entry.actor_name == "job:transfer-expiry"


def test_issue16_the_clock_purges_idempotency_keys_after_24_hours(app, world):
    from admin_app.models import IdempotencyKey
    from admin_app.services.idempotency import LIFETIME

    s, now = world.session, utcnow()
    user_id = world.user("garage-jansen").id
    for name, created in (("old", now - LIFETIME - timedelta(seconds=1)), ("new", now)):
        s.add(
            IdempotencyKey(
                user_id=user_id,
                key=name,
                fingerprint="0" * 64,
                state="done",
                created_at=created,
                expires_at=created + LIFETIME,
            )
        )
    s.commit()
    tick(app)
    s.expire_all()
    assert [row.key for row in s.scalars(select(IdempotencyKey))] == ["new"]
