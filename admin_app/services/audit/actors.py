"""Who acts (R-SEC-2): a person with the roles and tenant links the rules look at, an API
key, or a job; kept in ``session.info`` for the audit rows of that session's writes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person (with the roles and tenant links rules look at) or a job."""

    id: int | None
    name: str
    roles: frozenset[str] = frozenset()
    garage_id: int | None = None
    fleet_account_id: int | None = None
    email: str | None = None

    @classmethod
    def of_user(cls, user) -> Actor:
        return cls(
            user.id,
            user.username,
            roles=frozenset(role.name for role in user.roles),
            garage_id=user.garage_id,
            fleet_account_id=user.fleet_account_id,
            email=(user.email or "").lower() or None,
        )

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @classmethod
    def of_api_key(cls, key, user) -> Actor:
        """A management system calling with an API key (issue 16): its service login's
        roles and garage, named after the key ("API key <name>" in the log)."""
        return cls(
            user.id,
            f"{API_KEY_ACTOR}{key.name}",
            roles=frozenset(role.name for role in user.roles),
            garage_id=key.garage_id,
        )

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(None, f"job:{name}")


SYSTEM_ACTOR = Actor(None, "systeem")
# How the log stores an API key's actions: "api-key:<name>", read as "API key <name>".
API_KEY_ACTOR = "api-key:"


def set_actor(session: Session, actor: Actor) -> None:
    session.info["actor"] = actor


def get_actor(session: Session) -> Actor:
    return session.info.get("actor", SYSTEM_ACTOR)
