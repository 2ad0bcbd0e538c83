"""The shared candidate index in Redis: atomic insert-and-query in one round trip per batch, a sliding window
of time buckets that expire, and the signature parameters stored beside it (a mismatch is refused). The same
script appends each added headline's word-vector rows to the `near` stream (see `storage.dense`)."""
from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np
import redis

from headline_dedup.errors import IndexMismatch
from headline_dedup.ports import IndexEntry
from headline_dedup.signatures import Signer
from headline_dedup.storage import lua
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

def pack_words(rows) -> bytes:
    """Word-vector rows as the `near` stream holds them: little-endian uint16 (the table has 20,000 rows)."""
    return np.asarray(rows, dtype="<u2").tobytes()


def unpack_words(raw: bytes) -> tuple[int, ...]:
    return tuple(int(r) for r in np.frombuffer(raw, dtype="<u2"))


SCRIPT = lua.source("insert_and_query.lua")
BUCKETS_PER_WINDOW = 3


def recorded(client: redis.Redis, keys: Keys, field: str, value: str) -> str:
    """What the namespace's meta hash holds under `field`, recording `value` there first if nothing is (the
    first process to start decides what a namespace is built with)."""
    client.hsetnx(keys.meta, field, value)
    return as_text(client.hget(keys.meta, field))


class RedisIndex:
    def __init__(self, client: redis.Redis, keys: Keys, signer: Signer, window_seconds: float):
        self.client, self.keys, self.signer = client, keys, signer
        self.bucket_seconds = max(1.0, window_seconds / BUCKETS_PER_WINDOW)
        self.window_seconds = window_seconds
        self._script = client.register_script(SCRIPT)
        self.appended: tuple[str, str] | None = None  # the near stream ids the last insert appended (first, last)
        self.check_fingerprint()

    def check_fingerprint(self) -> None:
        fingerprint = self.signer.params.fingerprint
        stored = recorded(self.client, self.keys, "fingerprint", fingerprint)
        if stored != fingerprint:
            raise IndexMismatch(message=f"index {self.keys.tag} was built with {stored}, this process uses "
                                        f"{fingerprint}: use another namespace or rebuild")

    def _bucket_keys(self, entries: Sequence[IndexEntry]) -> list[str]:
        """The current bucket first, then the older ones still in the window."""
        now = max(e.timestamp for e in entries) or time.time()
        current = math.floor(now / self.bucket_seconds)
        return [self.keys.lsh(current - i) for i in range(BUCKETS_PER_WINDOW + 1)]

    def query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        if not entries:
            return []
        bucket_keys = self._bucket_keys(entries)
        bands = [self.signer.band_keys(e.signature) for e in entries]
        pipe = self.client.pipeline(transaction=False)
        for fields in bands:
            for key in bucket_keys:
                pipe.hmget(key, fields)
        replies = iter(pipe.execute())
        out = []
        for e in entries:
            found: dict[str, None] = {}
            for _ in bucket_keys:
                for ids in next(replies):
                    for other in (ids or b"").decode().split(","):
                        if other and other != e.headline_id:
                            found[other] = None
            out.append(list(found))
        return out

    def insert_and_query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        if not entries:
            return []
        bucket_keys = self._bucket_keys(entries)
        bands = self.signer.band_keys(entries[0].signature)
        keep = self.window_seconds + 2 * self.bucket_seconds
        near_minid = f"{int((time.time() - keep) * 1000)}-0" if any(e.words for e in entries) else "0"
        args: list = [int(keep), len(bands), len(bands[0]), len(entries), near_minid]
        for e in entries:  # band fields have a fixed length: one argument per entry, split by the script
            args += [e.headline_id, b"".join(self.signer.band_keys(e.signature)), pack_words(e.words),
                     repr(float(e.timestamp))]
        *result, appended = self._script(keys=[*bucket_keys, self.keys.meta, self.keys.near], args=args)
        self.appended = tuple(as_text(appended).split()) or None
        return [[x for x in as_text(found).split(",") if x] for found in result]
