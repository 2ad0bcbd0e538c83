"""Cluster state in Redis: the `StateStore` port. Loading is one script call (one round trip, whatever the
batch), committing one script call inside the caller's MULTI (with its events and acknowledgements)."""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import redis
from redis.exceptions import LockNotOwnedError
import xxhash

from headline_dedup.clustering import ClusterProfile
from headline_dedup.ports import BatchOutcome, Snapshot
from headline_dedup.storage import lua
from headline_dedup.storage.keys import Keys


def as_text(value):
    """A Redis reply as str (clients may be created with or without decode_responses)."""
    return value.decode() if isinstance(value, bytes) else value


def exact_field(key: str) -> str:
    return xxhash.xxh64_hexdigest(key.encode())


@dataclass(frozen=True)
class Fence:
    """The clustering lock a commit must still hold. A worker whose batch outlived the lock's TTL must not write
    its decisions over those of the worker that took the lock next."""

    key: str
    token: str

    @classmethod
    def of(cls, lock: redis.lock.Lock) -> "Fence":
        """The fence of a lock held by this thread."""
        token = lock.local.token
        if token is None:
            raise LockNotOwnedError("the clustering lock is not held")
        return cls(lock.name, as_text(token))


@contextmanager
def fenced_pipeline(client: redis.Redis, fence: Fence | None) -> Iterator[redis.client.Pipeline]:
    """A transaction pipeline; with `fence`, the lock key is WATCHed and its token compared before MULTI, so
    nothing is written if the lock expired or changed hands before EXEC (`LockNotOwnedError` or `WatchError`,
    both retried by the role). The caller queues its commands in the block, then calls `execute()`."""
    with client.pipeline(transaction=True) as pipe:
        if fence is not None:
            pipe.watch(fence.key)
            if as_text(pipe.get(fence.key)) != fence.token:
                raise LockNotOwnedError("the clustering lock expired or changed hands before the commit")
            pipe.multi()
        yield pipe


def cluster_keys(keys: Keys, cluster_ids: Sequence[str]) -> list[str]:
    """The hash, token counts, members and lent token counts keys of each cluster, in that order (a script
    declares them)."""
    return [key for cid in cluster_ids for key in (keys.cluster(cid), keys.cluster_tokens(cid),
                                                   keys.cluster_members(cid), keys.cluster_lent(cid))]


class RedisStore:
    def __init__(self, client: redis.Redis, keys: Keys, extra_writes: Callable | None = None,
                 record_ttl: float = 0):
        """`extra_writes(pipe, outcome)` adds the caller's writes (events, acks) to the commit transaction;
        `record_ttl` is the headline records' retention in seconds (0: they do not expire). While `fence` is
        set, a commit is applied only if that lock is still held (`fenced_pipeline`)."""
        self.client, self.keys, self.extra_writes = client, keys, extra_writes
        self.fence: Fence | None = None
        self.record_ttl = int(record_ttl)
        # Exact key -> its owner, as the last load found: a commit follows its batch's load. Replaced at each
        # load, not grown, so that the API's dry runs do not pile them up.
        self._owners: dict[str, str] = {}
        self._load_assignments = client.register_script(lua.source("load_assignments.lua"))
        self._load_clusters = client.register_script(lua.source("load_clusters.lua"))
        self._commit = client.register_script(lua.source("commit.lua"))
        self._expire = client.register_script(lua.source("expire.lua"))

    def seen_keys(self, exact_keys: Sequence[str]) -> set[str]:
        if not exact_keys:
            return set()
        found = self.client.hmget(self.keys.exact, [exact_field(x) for x in exact_keys])
        return {key for key, cid in zip(exact_keys, found) if cid}

    def load(self, exact_keys: Sequence[str], tokens: Sequence[str], candidates: Sequence[str]) -> Snapshot:
        k = self.keys
        fields = [exact_field(x) for x in exact_keys]
        exact_raw, total, assigned, placed = json.loads(self._load_assignments(
            keys=[k.exact, k.meta, *(k.headline(c) for c in candidates)], args=fields))
        exact = {key: v for key, v in zip(exact_keys, exact_raw or ()) if v}
        self._owners = dict(exact)  # a copy: the engine updates the snapshot's map as it decides
        assignment = {c: v for c, v in zip(candidates, assigned or ()) if v}
        wanted = list(dict.fromkeys([*exact.values(), *assignment.values()]))
        clusters, df = json.loads(self._load_clusters(
            keys=[k.df, *(key for cid in wanted for key in (k.cluster(cid), k.cluster_tokens(cid)))],
            args=[len(tokens), *tokens, *wanted]))
        profiles = {}
        for cid, size, rep_id, rep_tokens, counts, rep_kicker, latest, apart in clusters or ():
            profiles[cid] = ClusterProfile(cid, int(size), dict(counts or {}), rep_id, tuple(json.loads(rep_tokens)),
                                           int(rep_kicker), float(latest), frozenset(apart.split()))
        return Snapshot(df={t: n for t, n in (df or {}).items() if n}, total=int(total), exact=exact,
                        assignment=assignment, profiles=profiles,
                        placed={candidates[i - 1] for i in placed or ()})

    def stage(self, pipe, outcome: BatchOutcome, now: float | None = None) -> None:
        """Queue the writes of `outcome` on a transaction pipeline (the caller adds its own and executes)."""
        k, now = self.keys, now or time.time()
        df: dict[str, int] = {}
        for toks in outcome.tokens.values():
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        decisions = [[d.headline_id, d.cluster_id or "", d.reason, round(d.score, 4), d.created,
                      sorted(set(outcome.tokens[d.headline_id])) if d.cluster_id else [], d.reason == "semantic"]
                     for d in outcome.decisions]
        profiles = [[cid, p.size, p.representative_id, json.dumps(p.representative_tokens), p.representative_kicker,
                     repr(p.latest)] for cid, p in outcome.profiles.items()]
        doc = {"df": df, "counted": len(outcome.tokens), "decisions": decisions, "profiles": profiles,
               "exact": {exact_field(key): cid for key, cid in outcome.exact_keys.items()}}
        lua.run(self._commit, [k.df, k.meta, k.exact, k.clusters, k.aging, *self._touched(outcome)],
                [k.headline(""), k.cluster(""), now, json.dumps(doc, ensure_ascii=False), self.record_ttl], pipe)

    def _touched(self, outcome: BatchOutcome) -> list[str]:
        """The headline and cluster keys a commit of `outcome` writes or checks (declared to its script)."""
        k = self.keys
        clusters = {d.cluster_id for d in outcome.decisions if d.cluster_id} | set(outcome.profiles)
        clusters |= set(outcome.exact_keys.values())
        clusters |= {self._owners[key] for key in outcome.exact_keys if key in self._owners}
        headlines = {d.headline_id for d in outcome.decisions}
        headlines |= {p.representative_id for p in outcome.profiles.values() if p.representative_id}
        return [*(k.headline(h) for h in sorted(headlines)), *cluster_keys(k, sorted(clusters))]

    def commit(self, outcome: BatchOutcome) -> None:
        with fenced_pipeline(self.client, self.fence) as pipe:
            self.stage(pipe, outcome)
            if self.extra_writes:
                self.extra_writes(pipe, outcome)
            pipe.execute()

    def stale_clusters(self, cutoff: float, limit: int) -> list[str]:
        """Clusters not updated since `cutoff` (epoch seconds), oldest first."""
        return [as_text(c) for c in self.client.zrangebyscore(self.keys.clusters, "-inf", cutoff, start=0,
                                                               num=limit)]

    def stage_expiry(self, pipe, cluster_ids: Sequence[str]) -> None:
        """Queue the removal of clusters past retention with their exact-duplicate keys and their headlines' share
        of the document frequencies and headline count (their headlines expire on their own TTL)."""
        if cluster_ids:
            k = self.keys
            lua.run(self._expire, [k.exact, k.clusters, k.df, k.meta, k.aging, *cluster_keys(k, cluster_ids)],
                    list(cluster_ids), pipe)
