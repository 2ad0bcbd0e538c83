"""In-memory implementations of the ports, for the offline commands and unit tests (single process)."""
from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Sequence

from headline_dedup.clustering import ClusterProfile
from headline_dedup.ports import BatchOutcome, IndexEntry, Snapshot
from headline_dedup.signatures import Signer


class MemoryIndex:
    """A banded LSH index in dictionaries, with a sliding window.

    The same banding as the Redis index (b bands of r rows, chosen by datasketch for the threshold, keys from
    `Signer.band_keys`), so offline and service runs find the same candidates. datasketch's own `MinHashLSH`
    gives the same candidates but costs about 200 µs per insert+query+remove here (byte-swapping every band
    and a storage layer per call), more than the rest of the engine together; plain dicts cost a tenth.
    Entries older than `window_seconds` before the newest timestamp seen leave the index, and so do the
    oldest ones beyond `max_items`, so the cost per headline stays flat however long the stream runs. A headline
    whose signature is already indexed (a re-send, a re-scrape) refreshes that entry instead of adding one.
    """

    def __init__(self, signer: Signer, window_seconds: float = 72 * 3600, max_items: int = 500_000):
        self._signer = signer
        self._buckets: dict[bytes, list[str]] = {}
        self.window_seconds = window_seconds
        self.max_items = max_items
        self._order: OrderedDict[str, tuple[float, list[bytes]]] = OrderedDict()
        self._by_signature: dict[bytes, str] = {}
        self._newest = float("-inf")

    def __len__(self) -> int:
        return len(self._order)

    def insert_and_query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        out = []
        buckets = self._buckets
        for e in entries:
            self._newest = max(self._newest, e.timestamp)
            self._evict()
            keys = self._signer.band_keys(e.signature)
            found: dict[str, None] = {}
            for k in keys:
                for other in buckets.get(k, ()):
                    found[other] = None
            found.pop(e.headline_id, None)
            out.append(list(found))
            if e.headline_id in self._order:
                continue
            twin = self._by_signature.get(b"".join(keys))
            if twin is not None:
                # The same signature is indexed already (a re-send): keep one entry, refreshed to now.
                self._order[twin] = (e.timestamp, self._order[twin][1])
                self._order.move_to_end(twin)
                continue
            for k in keys:
                buckets.setdefault(k, []).append(e.headline_id)
            self._order[e.headline_id] = (e.timestamp, keys)
            self._by_signature[b"".join(keys)] = e.headline_id
        return out

    def query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        out = []
        for e in entries:
            found = {other: None for k in self._signer.band_keys(e.signature) for other in self._buckets.get(k, ())}
            found.pop(e.headline_id, None)
            out.append(list(found))
        return out

    def _evict(self) -> None:
        horizon = self._newest - self.window_seconds
        while self._order:
            key, (ts, bands) = next(iter(self._order.items()))
            if ts >= horizon and len(self._order) < self.max_items:
                break
            self._order.popitem(last=False)
            self._by_signature.pop(b"".join(bands), None)
            for k in bands:
                ids = self._buckets[k]
                ids.remove(key)
                if not ids:
                    del self._buckets[k]


class MemoryStore:
    """Clusters, document frequencies and exact-duplicate keys in dictionaries."""

    def __init__(self, df: dict[str, int] | None = None, total: int = 0):
        """`df`/`total`: document frequencies already learned (a history), else an empty stream."""
        self.df: Counter[str] = Counter(df or {})
        self.total = total
        self.exact: dict[str, str] = {}
        self.assignment: dict[str, str] = {}
        self.profiles: dict[str, ClusterProfile] = {}

    def load(self, exact_keys: Sequence[str], tokens: Sequence[str], candidates: Sequence[str]) -> Snapshot:
        exact = {k: self.exact[k] for k in exact_keys if k in self.exact}
        assignment = {h: self.assignment[h] for h in candidates if h in self.assignment}
        wanted = set(exact.values()) | set(assignment.values())
        profiles = {c: self.profiles[c].copy() for c in wanted}
        needed = set(tokens).union(*(p.counts for p in profiles.values()))
        return Snapshot(
            df={t: self.df[t] for t in needed if t in self.df},
            total=self.total,
            exact=exact,
            assignment=assignment,
            profiles=profiles,
        )

    def commit(self, outcome: BatchOutcome) -> None:
        for toks in outcome.tokens.values():
            self.df.update(set(toks))
            self.total += 1
        self.exact.update(outcome.exact_keys)
        for d in outcome.decisions:
            if d.cluster_id is not None:
                self.assignment[d.headline_id] = d.cluster_id
        self.profiles.update(outcome.profiles)
