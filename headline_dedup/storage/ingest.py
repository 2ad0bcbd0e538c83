"""Accepting headlines: one Lua script per batch stores each new headline and queues it, atomically and
idempotently (the same client id, or without one the same source + text, maps to the first headline id, per API
key); a client id reused for another text is a conflict that stores nothing."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Sequence

import redis

from headline_dedup.errors import Conflict, InvalidRequest, Overloaded
from headline_dedup.feeds import parse_time
from headline_dedup.leads import lead_sentence
from headline_dedup.storage import lua
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

SCRIPT = lua.source("ingest.lua")
MAX_CLOCK_AHEAD = 300  # a publication time this far past arrival is a clock or time-zone error


def event_time(published_at: str | None, now: float, retention_seconds: float) -> float | None:
    """The headline's event time from `published_at` (any format `parse_time` reads), when it is plausible: at
    most `MAX_CLOCK_AHEAD` seconds after `now`, and within retention before it. None otherwise: the arrival time
    stands in (`published_at` stays informative)."""
    if not published_at:
        return None
    try:
        at = parse_time(published_at)
    except InvalidRequest:
        return None
    return at if now - retention_seconds <= at <= now + MAX_CLOCK_AHEAD else None


@dataclass(frozen=True)
class Accepted:
    headline_id: str
    new: bool  # False: an earlier request already stored it (idempotent replay)


def idempotency_key(client_id: str | None, source: str | None, text: str, api_key: str | None = None) -> str:
    """What makes two posts the same headline: the client id, else the source and text; scoped to the API key
    that posted them (its name; key names have no ':'), so two clients' ids never meet. Without authentication
    the scope is empty and the key is what it always was."""
    if client_id:
        own = f"id:{client_id}"
    else:
        own = "text:" + hashlib.sha256(f"{source or ''}\x1f{text}".encode()).hexdigest()
    return f"key:{api_key}:{own}" if api_key else own


RETRIES = 5  # attempts when a concurrent post of the same items changed their idempotency keys meanwhile


class Ingestor:
    def __init__(self, client: redis.Redis, keys: Keys, retention_seconds: float, max_backlog: int):
        self.client, self.keys = client, keys
        self.retention_seconds = int(retention_seconds)
        self.max_backlog = max_backlog
        self._script = client.register_script(SCRIPT)
        self._counting = False  # whether the namespace's `received` counter is known to exist

    def _run(self, idem: list[str], docs: list[str], now: float, request_id: str) -> list:
        """One attempt of the ingest script: the ids the idempotency keys hold and fresh ids for the new ones are
        read first, so that the script can declare every record it touches."""
        k = self.keys
        if not self._counting:  # a namespace from before `received`: its ids counted its headlines so far
            self.client.hsetnx(k.meta, "received", int(self.client.get(k.seq) or 0))
            self._counting = True
        held = dict(zip(idem, (as_text(v) if v is not None else "" for v in self.client.mget(idem))))
        new = sum(1 for v in held.values() if not v)
        last = self.client.incrby(k.seq, new) if new else 0
        reserved = [str(i) for i in range(last - new + 1, last + 1)]
        existing = sorted({v for v in held.values() if v})
        return self._script(keys=[k.ingest, k.seq, k.meta, *idem, *(k.headline(h) for h in (*existing, *reserved))],
                            args=[self.retention_seconds, len(docs), now, request_id, self.max_backlog,
                                  k.headline(""), *docs, *(held[key] for key in idem), *reserved])

    def headline_for_client_id(self, client_id: str, api_key: str | None) -> str | None:
        """The headline id that `api_key` (its name; None: no authentication) posted as `client_id`."""
        found = self.client.get(self.keys.idem(idempotency_key(client_id, None, "", api_key)))
        return found.decode() if isinstance(found, bytes) else found

    def backlog(self) -> int:
        return self.client.xlen(self.keys.ingest)

    def submit(self, items: Sequence[dict], request_id: str = "") -> list[Accepted]:
        """Store and queue `items` (dicts with `text` and optional `id`, `source`, `url`, `lang`,
        `published_at`, `body`, and `api_key`: the name of the key that posted it), in order, tagged with the
        `request_id` that brought them; all of them or none. The queued message carries the lead sentence of
        the body (`lead`) for the worker. A batch is accepted only if the backlog (the ingest stream's length)
        is at most `max_backlog` after it: else `Overloaded`, or `InvalidRequest` when its new headlines alone
        are more than that. Raises `Conflict` when an item's client id was already used (by the same key) for
        another text."""
        k, now = self.keys, time.time()
        idem = [k.idem(idempotency_key(i.get("id"), i.get("source"), i["text"], i.get("api_key"))) for i in items]
        docs = []
        for i in items:
            doc = {**{f: v for f, v in i.items() if f not in ("id", "event_at") and v is not None},
                   "client_id": i.get("id") or ""}
            at = event_time(i.get("published_at"), now, self.retention_seconds)
            if at is not None:
                doc["event_at"] = repr(at)
            lead = lead_sentence(i.get("body"))
            if lead:  # the worker's Headline.lead: queued with the text, so the worker never reads the body
                doc["lead"] = lead
            docs.append(json.dumps(doc))
        for _ in range(RETRIES):
            result = self._run(idem, docs, now, request_id)
            refusal = as_text(result[0]) if result else None
            if refusal != "retry":
                break
        else:
            raise Overloaded("busy", "the same headlines are being posted concurrently, retry", retry_after=1)
        if refusal == "conflict":
            i = int(result[1]) - 1
            raise Conflict("id_conflict", f"headline id {items[i]['id']!r} was already posted with another text",
                           field=f"headlines.{i}.id")
        if refusal == "overloaded":
            if int(result[1]) > self.max_backlog:  # it would not fit an empty backlog: retrying cannot help
                raise InvalidRequest("batch_too_large", f"{result[1]} new headlines in one batch exceed the ingest "
                                     f"backlog limit ({self.max_backlog}); send smaller batches", "headlines")
            raise Overloaded("backlog_full", "the ingest backlog is full, retry later", retry_after=5)
        return [Accepted(as_text(hid), bool(new)) for hid, new in result]
