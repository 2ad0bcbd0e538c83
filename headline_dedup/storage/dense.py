"""Candidates by meaning in the service: the `near` stream mirrored by each process as an in-memory `DenseIndex`.

The band index script appends every headline it adds to `near` (its id, time and word-vector rows, a few bytes),
in the same atomic step, and trims the stream to the window. A process searching by meaning first reads what
the stream gained since it last looked (`XRANGE` from its last id), rebuilds those vectors from the rows, and
searches its mirror: an exact search over the window's vectors, one matrix product per batch. Searches for a
batch happen under the clustering lock, beside that batch's band insert (the engine runs the two at once), so
the mirror holds every headline decided before it, whichever worker decided it, and the batch goes into the
mirror from memory. The entries a batch's own insert appended are not read back: the band index says which
stream ids they got (`RedisIndex.appended`), and the next catch-up steps over them.
"""
from __future__ import annotations

from typing import Sequence

import redis

from headline_dedup.ports import IndexEntry
from headline_dedup.storage.index import RedisIndex, unpack_words
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from headline_dedup.vectors import DenseIndex

CATCH_UP_COUNT = 5000  # stream entries read per round trip while catching up


class RedisDenseIndex:
    """The `CandidateIndex` by meaning over the `near` stream (word vectors: the stream holds word rows)."""

    def __init__(self, client: redis.Redis, keys: Keys, encoder, mirror: DenseIndex, bands: RedisIndex):
        """`bands`: the band index whose inserts append to the stream."""
        self.client, self.keys, self.encoder, self.mirror, self.bands = client, keys, encoder, mirror, bands
        self._last = "0-0"  # the last stream entry mirrored

    def refresh(self) -> int:
        """Mirror the entries other processes appended since the last call (this process's own inserts are in
        the mirror already: their ranges are stepped over); returns how many. Called before this process's next
        band insert begins: read while it runs, the stream would hold the batch too, and the read would wait for
        the insert."""
        added = 0
        while self.bands.appended:
            first, last = self.bands.appended[0]
            added += self._read(before=first)
            if _stream_id(last) > _stream_id(self._last):
                self._last = last
            self.bands.appended.pop(0)
        return added + self._read()

    def _read(self, before: str | None = None) -> int:
        """Mirror the stream's entries after the last one mirrored, up to `before` (exclusive; None: the end)."""
        added = 0
        while before is None or _stream_id(before) > _stream_id(self._last):
            start = "-" if self._last == "0-0" else f"({self._last}"
            end = "+" if before is None else f"({before}"
            page = self.client.xrange(self.keys.near, min=start, max=end, count=CATCH_UP_COUNT)
            if not page:
                break
            entries, seen = [], set()
            for mid, fields in page:
                f = {as_text(k): v for k, v in fields.items()}
                hid = as_text(f.get("id"))
                if hid and hid not in self.mirror and hid not in seen:
                    seen.add(hid)
                    entries.append((hid, float(as_text(f.get("t")) or 0), unpack_words(f.get("w") or b"")))
            if entries:
                vectors = self.encoder.vectors_of([w for _, _, w in entries])
                self.mirror.add([IndexEntry(hid, None, t, v, w) for (hid, t, w), v in zip(entries, vectors)])
                added += len(entries)
            self._last = as_text(page[-1][0])
            if len(page) < CATCH_UP_COUNT:
                break
        return added

    def query(self, entries: Sequence[IndexEntry], within: bool = False, skip: frozenset[str] = frozenset()
              ) -> list[list[str]]:
        self.refresh()
        return self.mirror.query(entries, within, skip)

    def words_of(self, headline_id: str) -> Sequence[int]:
        return self.mirror.words_of(headline_id)

    def vector_of(self, headline_id: str):
        return self.mirror.vector_of(headline_id)

    def time_of(self, headline_id: str) -> float | None:
        return self.mirror.time_of(headline_id)

    def insert_and_query(self, entries: Sequence[IndexEntry], skip: frozenset[str] = frozenset()
                         ) -> list[list[str]]:
        """Called under the clustering lock, after `refresh` (the band insert of `entries` may be running)."""
        return self.mirror.insert_and_query(entries, skip)


def _stream_id(mid: str) -> tuple[int, int]:
    """A stream entry id ("1700000000000-3") in the order Redis gives them."""
    ms, _, seq = mid.partition("-")
    return int(ms), int(seq or 0)
