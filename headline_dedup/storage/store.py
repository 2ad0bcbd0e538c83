"""Cluster state in Redis: the `StateStore` port (three pipelined round trips to load, one transaction to
commit), plus the reads the API needs."""
from __future__ import annotations

import json
import time
from typing import Callable, Sequence

import redis
import xxhash

from headline_dedup.clustering import ClusterProfile
from headline_dedup.ports import BatchOutcome, Snapshot
from headline_dedup.storage.keys import Keys


def as_text(value):
    """A Redis reply as str (clients may be created with or without decode_responses)."""
    return value.decode() if isinstance(value, bytes) else value


def exact_field(key: str) -> str:
    return xxhash.xxh64_hexdigest(key.encode())


class RedisStore:
    def __init__(self, client: redis.Redis, keys: Keys, extra_writes: Callable | None = None):
        """`extra_writes(pipe, outcome)` adds the caller's writes (events, acks) to the commit transaction."""
        self.client, self.keys, self.extra_writes = client, keys, extra_writes

    def load(self, exact_keys: Sequence[str], tokens: Sequence[str], candidates: Sequence[str]) -> Snapshot:
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(k.exact, [exact_field(x) for x in exact_keys]) if exact_keys else pipe.echo("")
        pipe.hget(k.meta, "total")
        for c in candidates:
            pipe.hget(k.headline(c), "cluster_id")
        exact_raw, total, *assigned = pipe.execute()
        exact = {key: as_text(v) for key, v in zip(exact_keys, exact_raw or []) if v} if exact_keys else {}
        assignment = {c: as_text(v) for c, v in zip(candidates, assigned) if v}
        wanted = sorted(set(exact.values()) | set(assignment.values()))
        pipe = self.client.pipeline(transaction=False)
        for cid in wanted:
            pipe.hmget(k.cluster(cid), ["size", "rep_id", "rep_tokens"])
            pipe.hgetall(k.cluster_tokens(cid))
        raw = pipe.execute()
        profiles = {}
        for i, cid in enumerate(wanted):
            (size, rep_id, rep_tokens), counts = raw[2 * i], raw[2 * i + 1]
            if size is None:
                continue
            profiles[cid] = ClusterProfile(cid, int(size), {as_text(t): int(n) for t, n in counts.items()}, as_text(rep_id),
                                           tuple(json.loads(rep_tokens)))
        needed = sorted(set(tokens).union(*(p.counts for p in profiles.values())))
        counts = self.client.hmget(k.df, needed) if needed else []
        return Snapshot(df={t: int(n) for t, n in zip(needed, counts) if n}, total=int(total or 0), exact=exact,
                        assignment=assignment, profiles=profiles)

    def stage(self, pipe, outcome: BatchOutcome, now: float | None = None) -> None:
        """Queue the writes of `outcome` on a transaction pipeline (the caller adds its own and executes)."""
        k, now = self.keys, now or time.time()
        for toks in outcome.tokens.values():
            for t in set(toks):
                pipe.hincrby(k.df, t, 1)
        if outcome.tokens:
            pipe.hincrby(k.meta, "total", len(outcome.tokens))
        for key, cid in outcome.exact_keys.items():
            pipe.hsetnx(k.exact, exact_field(key), cid)
        for d in outcome.decisions:
            if d.cluster_id is None:
                pipe.hset(k.headline(d.headline_id), mapping={"status": "rejected", "reason": d.reason})
                continue
            pipe.hset(k.headline(d.headline_id), mapping={"status": "clustered", "cluster_id": d.cluster_id,
                                                          "reason": d.reason, "score": round(d.score, 4),
                                                          "clustered_at": now})
            for t in set(outcome.tokens[d.headline_id]):
                pipe.hincrby(k.cluster_tokens(d.cluster_id), t, 1)
            pipe.hset(k.cluster_members(d.cluster_id), d.headline_id, round(d.score, 4))
            if d.created:
                pipe.hsetnx(k.cluster(d.cluster_id), "first_seen", now)
        for cid, prof in outcome.profiles.items():
            pipe.hset(k.cluster(cid), mapping={"size": prof.size, "rep_id": prof.representative_id,
                                                "rep_tokens": json.dumps(prof.representative_tokens),
                                                "last_seen": now})
            pipe.zadd(k.clusters, {cid: now})

    def commit(self, outcome: BatchOutcome) -> None:
        pipe = self.client.pipeline(transaction=True)
        self.stage(pipe, outcome)
        if self.extra_writes:
            self.extra_writes(pipe, outcome)
        pipe.execute()
