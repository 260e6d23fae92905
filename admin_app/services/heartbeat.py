"""The worker clock's heartbeat, kept in Redis so that every web process sees it.

Workers may run on other machines than the web; Redis is the one place both reach, and a
tick that is lost with Redis is harmless (the next tick writes it again).
"""

from __future__ import annotations

import time

from redis import Redis


def _key(queue_name: str) -> str:
    return f"console:{queue_name}:clock:last-tick"


def record_tick(redis: Redis, queue_name: str, now: float | None = None) -> None:
    redis.set(_key(queue_name), repr(time.time() if now is None else now))


def seconds_since_last_tick(
    redis: Redis, queue_name: str, now: float | None = None
) -> float | None:
    """Seconds since any worker last ticked, or None when none ever did."""
    raw = redis.get(_key(queue_name))
    if raw is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, now - float(raw))
