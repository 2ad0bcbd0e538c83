"""In-memory implementations of the ports, for the offline commands and unit tests (single process)."""
from __future__ import annotations

from collections import Counter, OrderedDict
from itertools import chain, repeat
from typing import Sequence

from xxhash import xxh3_128_digest

from headline_dedup.clustering import ClusterProfile
from headline_dedup.ports import BatchOutcome, IndexEntry, Snapshot
from headline_dedup.signatures import BAND_FANOUT, Signer


class MemoryIndex:
    """A banded LSH index in dictionaries, with a sliding window.

    The same banding as the Redis index (b bands of r rows, chosen by datasketch for the threshold, keys from
    `Signer.band_keys`), so offline and service runs find the same candidates. datasketch's own `MinHashLSH`
    gives the same candidates but costs about 200 µs per insert+query+remove here (byte-swapping every band
    and a storage layer per call), more than the rest of the engine together; plain dicts cost a tenth.
    Entries older than `window_seconds` before the newest timestamp seen leave the index, and so do the
    oldest ones beyond `max_items`, so the cost per headline stays flat however long the stream runs. A headline
    whose signature is already indexed (a re-send, a re-scrape) refreshes that entry instead of adding one.
    A bucket answers with its newest `BAND_FANOUT` ids, as the Redis table does: in a long window a common band
    key gathers many headlines, and its newest few reach the live stories behind it.
    """

    def __init__(self, signer: Signer, window_seconds: float = 72 * 3600, max_items: int = 500_000):
        self._signer = signer
        self._buckets: dict[bytes, list[str]] = {}
        self.window_seconds = window_seconds
        self.max_items = max_items
        # headline id -> (timestamp, band keys, identity of its banded values), oldest first
        self._order: OrderedDict[str, tuple[float, tuple[bytes, ...], bytes]] = OrderedDict()
        self._by_signature: dict[bytes, str] = {}  # identity -> the one indexed headline with those values
        # indexed id -> how many of its buckets hold another headline too (0: it is alone in every one)
        self._shared: dict[str, int] = {}
        self._newest = float("-inf")

    def __len__(self) -> int:
        return len(self._order)

    def insert_and_query(self, entries: Sequence[IndexEntry], copies: frozenset[str] = frozenset()
                         ) -> list[list[str]]:
        # A copy's twin decides it, so it is not searched for (a scraped feed is half copies); any other re-send's
        # twin is found by its signature, at the price of one look-up.
        out = []
        order, by_signature = self._order, self._by_signature
        for e in entries:
            self._newest = max(self._newest, e.timestamp)
            self._evict()
            hid = e.headline_id
            banded = self._signer.banded(e.signature)
            identity = _identity(banded)
            twin = by_signature.get(identity)
            if twin is not None:
                # A re-send (feeds repeat themselves): its band keys are its twin's, and when the twin is alone
                # in all its buckets, so are the candidates, without reading them.
                keys = order[twin][1]
                if hid in copies:
                    out.append([])
                else:
                    out.append(self._others(keys, hid) if self._shared[twin] else [twin] if twin != hid else [])
                if hid not in order:
                    # Keep one entry for the signature, refreshed to now.
                    order[twin] = (e.timestamp, keys, identity)
                    order.move_to_end(twin)
                continue
            keys = self._signer.band_keys_of(banded)
            if hid in order:  # the same id again with another text: answered, not indexed twice
                out.append(self._others(keys, hid))
                continue
            out.append(self._add(hid, keys))
            order[hid] = (e.timestamp, keys, identity)
            by_signature[identity] = hid
        return out

    def query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        return [self._others(self._signer.band_keys(e.signature), e.headline_id) for e in entries]

    def _others(self, keys: Sequence[bytes], headline_id: str) -> list[str]:
        """The newest `BAND_FANOUT` ids of each bucket of `keys` but `headline_id`, without repeats, in bucket
        order."""
        buckets = map(self._buckets.get, keys, repeat((), len(keys)))
        found = dict.fromkeys(chain.from_iterable(
            [i for i in ids[-BAND_FANOUT - 1:] if i != headline_id][-BAND_FANOUT:] for ids in buckets))
        return list(found)

    def _add(self, headline_id: str, keys: tuple[bytes, ...]) -> list[str]:
        """Index `headline_id` under `keys`; returns the ids that were in those buckets (as `_others`): one
        look-up a bucket for both."""
        buckets, shared = self._buckets, self._shared
        found: dict[str, None] = {}
        n_shared = shared[headline_id] = 0
        for k in keys:
            ids = buckets.get(k)
            if ids is None:
                buckets[k] = [headline_id]
                continue
            found.update(dict.fromkeys(ids[-BAND_FANOUT:]))
            if len(ids) == 1:
                shared[ids[0]] += 1
            ids.append(headline_id)
            n_shared += 1
        shared[headline_id] += n_shared
        found.pop(headline_id, None)
        return list(found)

    def _evict(self) -> None:
        horizon = self._newest - self.window_seconds
        order, buckets, shared = self._order, self._buckets, self._shared
        while order:
            key, (ts, bands, identity) = next(iter(order.items()))
            if ts >= horizon and len(order) < self.max_items:
                break
            order.popitem(last=False)
            self._by_signature.pop(identity, None)
            for k in bands:
                ids = buckets[k]
                ids.remove(key)
                if not ids:
                    del buckets[k]
                elif len(ids) == 1:
                    shared[ids[0]] -= 1
            del shared[key]


def _identity(banded: bytes) -> bytes:
    """16 bytes that stand for a signature's banded values (a collision takes about 2^64 signatures)."""
    return xxh3_128_digest(banded)


class MemoryStore:
    """Clusters, document frequencies and exact-duplicate keys in dictionaries."""

    def __init__(self, df: dict[str, int] | None = None, total: int = 0):
        """`df`/`total`: document frequencies already learned (a history), else an empty stream."""
        self.df: Counter[str] = Counter(df or {})
        self.total = total
        self.exact: dict[str, str] = {}
        self.assignment: dict[str, str] = {}
        self.profiles: dict[str, ClusterProfile] = {}

    def seen_keys(self, exact_keys: Sequence[str]) -> set[str]:
        return {k for k in exact_keys if k in self.exact}

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
        self.df.update(chain.from_iterable(map(set, outcome.tokens.values())))  # one count per headline
        self.total += len(outcome.tokens)
        self.exact.update(outcome.exact_keys)
        for d in outcome.decisions:
            if d.cluster_id is not None:
                self.assignment[d.headline_id] = d.cluster_id
        self.profiles.update(outcome.profiles)
