"""Consumer groups forget the consumers that are gone: every worker process names its own consumer, so each
restart would otherwise add one to the group's list for good."""
from __future__ import annotations

import redis

from headline_dedup.storage.store import as_text

IDLE_MS = 10 * 60 * 1000  # a consumer silent for this long, with nothing pending, is gone


def prune_consumers(client: redis.Redis, stream: str, group: str, keep: str, idle_ms: int = IDLE_MS) -> list[str]:
    """Delete the group's consumers that hold no pending entry and have been idle `idle_ms`, except `keep`.
    Harmless to a live but quiet consumer: its next read creates it again. Returns the names deleted."""
    try:
        consumers = client.xinfo_consumers(stream, group)
    except redis.ResponseError:  # no stream or no group yet
        return []
    gone = [as_text(c["name"]) for c in consumers
            if c["pending"] == 0 and c["idle"] >= idle_ms and as_text(c["name"]) != keep]
    for name in gone:
        client.xgroup_delconsumer(stream, group, name)
    return gone
