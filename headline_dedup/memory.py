"""In-memory implementations of the ports, for the offline commands and unit tests (single process)."""
from __future__ import annotations

import copy
from collections import Counter, OrderedDict
from typing import Sequence

from headline_dedup.clustering import ClusterProfile
from headline_dedup.ports import BatchOutcome, IndexEntry, Snapshot
from headline_dedup.signatures import Signer


class MemoryIndex:
    """datasketch's in-memory MinHashLSH with a sliding window.

    Entries older than `window_seconds` before the newest timestamp seen leave the index, and so do the
    oldest ones beyond `max_items`, so the cost per headline stays flat however long the stream runs.
    """

    def __init__(self, signer: Signer, window_seconds: float = 72 * 3600, max_items: int = 500_000):
        self._lsh = signer.new_lsh()
        self.window_seconds = window_seconds
        self.max_items = max_items
        self._order: OrderedDict[str, float] = OrderedDict()
        self._newest = float("-inf")

    def __len__(self) -> int:
        return len(self._order)

    def insert_and_query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        out = []
        for e in entries:
            self._newest = max(self._newest, e.timestamp)
            self._evict()
            out.append([k for k in self._lsh.query(e.signature) if k != e.headline_id])
            if e.headline_id not in self._order:
                self._lsh.insert(e.headline_id, e.signature, check_duplication=False)
                self._order[e.headline_id] = e.timestamp
        return out

    def _evict(self) -> None:
        horizon = self._newest - self.window_seconds
        while self._order:
            key, ts = next(iter(self._order.items()))
            if ts >= horizon and len(self._order) < self.max_items:
                break
            self._order.popitem(last=False)
            self._lsh.remove(key)


class MemoryStore:
    """Clusters, document frequencies and exact-duplicate keys in dictionaries."""

    def __init__(self):
        self.df: Counter[str] = Counter()
        self.total = 0
        self.exact: dict[str, str] = {}
        self.assignment: dict[str, str] = {}
        self.profiles: dict[str, ClusterProfile] = {}

    def load(self, exact_keys: Sequence[str], tokens: Sequence[str], candidates: Sequence[str]) -> Snapshot:
        exact = {k: self.exact[k] for k in exact_keys if k in self.exact}
        assignment = {h: self.assignment[h] for h in candidates if h in self.assignment}
        wanted = set(exact.values()) | set(assignment.values())
        profiles = {c: copy.deepcopy(self.profiles[c]) for c in wanted}
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
