"""Which background roles are working: each clusterer and dispatcher records the time of its last successful
step in one sorted set per namespace. A role that cannot work (Redis refusing writes, a lost lock, a crash)
stops beating, and `/readyz` says so once its beat is older than the heartbeat TTL."""
from __future__ import annotations

import time

import redis

from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

ROLES = ("clusterer", "dispatcher")
FORGET_AFTER = 86400  # beats older than this are removed (roles that stopped for good)


class Heartbeats:
    def __init__(self, client: redis.Redis, keys: Keys, ttl: float):
        self.client, self.keys, self.ttl = client, keys, ttl

    def beat(self, role: str, name: str) -> None:
        self.client.zadd(self.keys.roles, {f"{role}:{name}": time.time()})

    def forget(self, role: str, name: str) -> None:
        """A role that stops cleanly leaves the set at once."""
        self.client.zrem(self.keys.roles, f"{role}:{name}")

    def fresh(self) -> dict[str, list[str]]:
        """Names of the roles whose last successful step is at most `ttl` seconds old, by role."""
        now = time.time()
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(self.keys.roles, "-inf", now - FORGET_AFTER)
        pipe.zrangebyscore(self.keys.roles, now - self.ttl, "+inf")
        _, members = pipe.execute()
        out: dict[str, list[str]] = {role: [] for role in ROLES}
        for member in members:
            role, _, name = as_text(member).partition(":")
            out.setdefault(role, []).append(name)
        return out
