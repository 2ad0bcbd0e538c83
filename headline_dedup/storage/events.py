"""Reading the events stream for subscribers: resume after an id, filters, and the reset rule."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import redis

from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

EVENT_TYPES = ("cluster.created", "cluster.updated", "cluster.representative_changed", "cluster.expired",
               "cluster.members_expired", "headline.rejected", "cluster.merged", "cluster.split", "headline.moved",
               "policy.changed")


@dataclass(frozen=True)
class Event:
    id: str  # the events stream entry id (SSE `id:`, webhook-id)
    type: str
    data: dict


@dataclass(frozen=True)
class EventFilter:
    types: frozenset[str] = frozenset()
    cluster: str | None = None
    min_size: int = 0
    source: str | None = None

    def accepts(self, e: Event) -> bool:
        if self.types and e.type not in self.types:
            return False
        if self.cluster and e.data.get("cluster_id") != self.cluster:
            return False
        if self.min_size and e.data.get("size", 0) < self.min_size:
            return False
        if self.source:
            who = e.data.get("member") or e.data.get("representative") or e.data.get("headline") or {}
            if who.get("source") != self.source:
                return False
        return True


def stage_event(pipe, keys: Keys, kind: str, payload: dict, maxlen: int) -> None:
    """Queue one event on a pipeline (the events stream, trimmed to about `maxlen`)."""
    pipe.xadd(keys.events, {"type": kind, "data": json.dumps(payload, ensure_ascii=False)}, maxlen=maxlen,
              approximate=True)


def parse_entry(entry) -> Event:
    """An Event from an (id, fields) stream entry."""
    eid, f = entry
    f = {as_text(k): as_text(v) for k, v in f.items()}
    return Event(as_text(eid), f.get("type", ""), json.loads(f.get("data") or "{}"))


STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
_U64 = 2 ** 64


def valid_stream_id(value: str) -> bool:
    """Whether `value` is a stream id Redis accepts: `ms` or `ms-seq`, each an unsigned 64-bit integer."""
    return bool(STREAM_ID.match(value)) and all(int(p) < _U64 for p in value.split("-"))


def id_tuple(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class EventLog:
    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys

    def last_id(self) -> str:
        """The newest entry id ("0-0" when empty): reading after it gives only what comes next."""
        last = self.client.xrevrange(self.keys.events, count=1)
        return as_text(last[0][0]) if last else "0-0"

    def trimmed_past(self, after: str, maxlen: int) -> bool:
        """Whether entries following `after` may have been trimmed away: the oldest kept entry is newer, and the
        stream has reached `maxlen` (the events stream is only ever trimmed to it, and approximate trimming never
        leaves fewer entries). A subscriber resuming there must resync. "0-0" asks for whatever is kept."""
        if id_tuple(after) == (0, 0):
            return False
        pipe = self.client.pipeline(transaction=False)
        pipe.xrange(self.keys.events, count=1)
        pipe.xlen(self.keys.events)
        first, length = pipe.execute()
        return bool(first) and length >= maxlen and id_tuple(as_text(first[0][0])) > id_tuple(after)

    def read(self, after: str, count: int, block_ms: int | None) -> list[Event]:
        """Up to `count` entries after `after`, waiting up to `block_ms` (None: do not wait)."""
        resp = self.client.xread({self.keys.events: after}, count=count, block=block_ms)
        return [parse_entry(e) for e in resp[0][1]] if resp else []
