"""The shared candidate index in Redis: atomic insert-and-query in one round trip per batch over the band table
(one packed hash per namespace, see its script), a sliding window of time buckets that each entry carries, and
the signature parameters stored beside it (a mismatch is refused). The same script appends each added headline's
word-vector rows to the `near` stream (see `storage.dense`)."""
from __future__ import annotations

import math
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np
import redis

from headline_dedup.errors import IndexMismatch
from headline_dedup.ports import IndexEntry
from headline_dedup.signatures import BAND_FANOUT, Signer
from headline_dedup.storage import lua
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

def pack_words(rows) -> bytes:
    """Word-vector rows as the `near` stream holds them: little-endian uint16 (the table has 20,000 rows)."""
    return np.asarray(rows, dtype="<u2").tobytes()


def unpack_words(raw: bytes) -> tuple[int, ...]:
    return tuple(int(r) for r in np.frombuffer(raw, dtype="<u2"))


SCRIPT = lua.source("insert_and_query.lua")
BAND_KEY_BYTES = 4  # of each 8-byte band key: the table's entries are (key, id, bucket), 12 bytes
BUCKETS_PER_WINDOW = 3
SWEEP_CHUNK = 1000  # fields a sweep's script call visits (its CHUNK)
APPENDED_KEPT = 64  # ranges of near stream ids kept for the dense mirror (`RedisIndex.appended`)
MIN_LEVEL, MAX_LEVEL = 10, 23  # the table's levels (as its script has them)


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
        # The near stream ids each insert appended (first, last), oldest first, until the dense mirror of this
        # process takes them before the next insert (`RedisDenseIndex`: it need not read back what it holds).
        # Only a hint: past APPENDED_KEPT, the oldest are forgotten, and the mirror reads those entries again.
        self.appended: list[tuple[str, str]] = []
        self._geometry = ""  # the band table's `level:split` as the last call left it
        self._sender: ThreadPoolExecutor | None = None  # the thread `begin_insert_and_query` sends from
        self.check_fingerprint()

    def check_fingerprint(self) -> None:
        fingerprint = self.signer.params.fingerprint
        stored = recorded(self.client, self.keys, "fingerprint", fingerprint)
        if stored != fingerprint:
            raise IndexMismatch(message=f"index {self.keys.tag} was built with {stored}, this process uses "
                                        f"{fingerprint}: use another namespace or rebuild")

    def _bucket(self, at: float | None) -> int:
        """The time bucket of `at` (epoch seconds; None or 0: now)."""
        return math.floor((at or time.time()) / self.bucket_seconds)

    @property
    def _keep(self) -> float:
        """How long the table lives without writes: the window and two buckets."""
        return self.window_seconds + 2 * self.bucket_seconds

    def query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        """The ids sharing a band with each entry, as `insert_and_query` would find them, adding nothing."""
        return self._run("query", entries)[:-1]

    def insert_and_query(self, entries: Sequence[IndexEntry], copies: frozenset[str] = frozenset()
                         ) -> list[list[str]]:
        return self.begin_insert_and_query(entries, copies, wait=True)()

    def begin_insert_and_query(self, entries: Sequence[IndexEntry], copies: frozenset[str] = frozenset(),
                               wait: bool = False) -> Callable[[], list[list[str]]]:
        """`insert_and_query` in two halves: the script's arguments are built now and sent from a thread of the
        index's own, and the call returned waits for its answer (the engine searches by meaning meanwhile: the
        server does most of the work). `wait`: sent and answered now."""
        if not entries:
            return list
        request = self._request("insert", entries, copies)
        if wait:
            reply = self._script(**request)
            return lambda: self._inserted(reply)
        if self._sender is None:
            self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="band-index")
        sent = self._sender.submit(self._script, **request)
        return lambda: self._inserted(sent.result())

    def _inserted(self, reply) -> list[list[str]]:
        *found, appended = self._answer(reply)
        if appended:
            self.appended.append((appended[0], appended[-1]))
            del self.appended[:-APPENDED_KEPT]
        return found

    def sweep(self, share: float, now: float | None = None) -> tuple[int, int]:
        """Drop the expired entries of `share` of the band table's fields (at least one script call's worth),
        from where the last sweep stopped: (entries dropped, fields visited). Entries also go when their field is
        written, but a field no new headline writes keeps its own until a sweep passes."""
        level, split = map(int, (as_text(x) or 0 for x in self.client.hmget(self.keys.bands, "#L", "#p")))
        fields = (1 << (level or MIN_LEVEL)) + split
        todo = min(fields, max(SWEEP_CHUNK, math.ceil(share * fields)))
        current = self._bucket(now)
        dropped = visited = 0
        while visited < todo:
            d, v = self._script(keys=[self.keys.bands], args=["sweep", min(SWEEP_CHUNK, todo - visited), current,
                                                              BUCKETS_PER_WINDOW])
            dropped, visited = dropped + int(d), visited + int(v)
            if not int(v):
                break
        return dropped, visited

    def adopt_wide_buckets(self, now: float | None = None) -> int:
        """Move the window's buckets of the earlier layout (a hash per time bucket, a field per band key, its
        value the ids joined by commas) into the table, and delete them; returns the entries moved. A bucket
        is renamed first, so two processes starting at once do not both move it."""
        current, keep = self._bucket(now), int(self._keep)
        moved = 0
        for bucket in range(current - BUCKETS_PER_WINDOW, current + 1):
            old, adopting = self.keys.lsh(bucket), self.keys.lsh(bucket) + ":adopting"
            try:
                self.client.rename(old, adopting)
            except redis.ResponseError:  # no such key: nothing to move, or another process is moving it
                continue
            stamp = struct.pack("<H", bucket % 65536)
            page: list[bytes] = []
            for band, ids in self.client.hscan_iter(adopting, count=1000):
                page += [band[:BAND_KEY_BYTES] + struct.pack("<Q", int(i))[:6] + stamp
                         for i in as_text(ids).split(",") if i.isdigit()]
                if len(page) >= 5000:
                    moved += int(self._script(keys=[self.keys.bands], args=["adopt", keep, b"".join(page)]))
                    page = []
            if page:
                moved += int(self._script(keys=[self.keys.bands], args=["adopt", keep, b"".join(page)]))
            self.client.delete(adopting)
        return moved

    def _run(self, mode: str, entries: Sequence[IndexEntry], copies: frozenset[str] = frozenset()
             ) -> list[list[str]]:
        if not entries:
            return [[]]
        return self._answer(self._script(**self._request(mode, entries, copies)))

    def _request(self, mode: str, entries: Sequence[IndexEntry], copies: frozenset[str]) -> dict:
        """The script's keys and arguments for `entries`."""
        near_minid = f"{int((time.time() - self._keep) * 1000)}-0" if any(e.words for e in entries) else "0"
        band_keys, field_names = self._band_fields(entries)
        args: list = [mode, int(self._keep), self.signer.params.bands[0], len(entries), near_minid,
                      self._bucket(max(e.timestamp for e in entries)),
                      BUCKETS_PER_WINDOW, self._geometry, BAND_FANOUT]
        for e, band, named in zip(entries, band_keys, field_names):  # an entry's bands: one argument, split there
            args += [_decimal(e.headline_id, mode == "query"), band, named, pack_words(e.words),
                     repr(float(e.timestamp)), "1" if e.headline_id in copies else ""]
        return {"keys": [self.keys.bands, self.keys.meta, self.keys.near], "args": args}

    def _answer(self, reply) -> list[list[str]]:
        """Each entry's candidates, then the near stream ids appended (none, or the first and the last)."""
        *result, appended, geometry = reply
        self._geometry = as_text(geometry)
        return [[x for x in as_text(found).split(",") if x] for found in result] + [as_text(appended).split()]

    def _band_fields(self, entries: Sequence[IndexEntry]) -> tuple[list[bytes], list[bytes]]:
        """Per entry, its 4-byte band keys and the 3-byte names of the fields that hold them, from the table's
        level and split as the last call left them (the script names them itself if they changed since)."""
        joined = b"".join(b"".join(self.signer.band_keys(e.signature)) for e in entries)
        keys = np.frombuffer(joined, dtype="<u4").reshape(len(entries), -1, 2)[:, :, 0].astype("<u4")
        names: list[bytes] = [b""] * len(entries)
        level, split = map(int, self._geometry.split(":")) if self._geometry else (0, 0)
        if MIN_LEVEL <= level <= MAX_LEVEL:
            field = keys % (1 << level)
            field = np.where(field < split, keys % (2 << level), field).astype("<u4")
            names = [row.tobytes() for row in field.view(np.uint8).reshape(len(entries), -1, 4)[:, :, :3]]
        return [row.tobytes() for row in keys], names


def _decimal(headline_id: str, querying: bool) -> str:
    """The index packs ids as 6-byte integers: the service's ids are decimal (its `seq`). A query for a headline
    that is not stored (`/v1/match`) goes as 0, which no headline is."""
    decimal = headline_id.isascii() and headline_id.isdigit() and len(headline_id) <= 14
    if querying and not decimal:
        return "0"
    if not decimal:
        raise ValueError(f"the Redis index holds decimal headline ids below 10^14, not {headline_id!r}")
    return headline_id
