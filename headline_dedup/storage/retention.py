"""Members of a cluster that lives on leave it with their records.

A headline's record expires `retention` after it was received, while a cluster lives as long as it is updated:
without this, a story followed for weeks would list members whose records are gone, and its size and token
counts would count them. `{t}:aging` lists each cluster by when its oldest member's record expires (commit.lua
keeps the earliest). Shortly before (`guard` seconds ahead), the expiry run takes the members due out of the
cluster (prune_members.lua: off its size and token counts, the document frequencies and the headline count). A
cluster all of whose members are due expires whole, as a cluster past retention does. The representative stays
while other members do: its record is kept alive as long as theirs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import redis

from headline_dedup.storage import lua
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text, cluster_keys

ADOPTED = "aging"  # meta field: clusters written before `aging` existed have been listed in it


@dataclass
class Due:
    """What the expiry run does to the clusters `aging` says are due."""

    gone: list[str] = field(default_factory=list)  # expired or merged away: only unlisted
    whole: list[str] = field(default_factory=list)  # every member due: the cluster expires
    prunes: list["Prune"] = field(default_factory=list)
    keep_alive: dict[str, int] = field(default_factory=dict)  # representative's record -> its new TTL (ms)
    listed: int = 0  # how many clusters `aging` gave


@dataclass(frozen=True)
class Prune:
    cluster_id: str
    leaving: tuple[str, ...]  # members whose records expire within the guard
    size: int  # the cluster's size once they left
    next_due: float | None  # when the oldest staying member's record expires (epoch s); None: never


def guard_seconds(retention_seconds: float, expiry_interval_seconds: float) -> float:
    """How long before a record expires its member leaves: a few expiry runs, a small share of a short retention."""
    return min(max(3 * expiry_interval_seconds, 60.0), retention_seconds / 4)


class MemberRetention:
    def __init__(self, client: redis.Redis, keys: Keys, guard: float):
        self.client, self.keys, self.guard = client, keys, guard
        self._prune = client.register_script(lua.source("prune_members.lua"))

    def due(self, now: float, limit: int = 500) -> Due:
        """The clusters whose oldest member's record expires within the guard, and what becomes of each."""
        k, out = self.keys, Due()
        ids = [as_text(c) for c in self.client.zrangebyscore(k.aging, "-inf", now + self.guard, start=0, num=limit)]
        out.listed = len(ids)
        if not ids:
            return out
        pipe = self.client.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(k.cluster(cid), ["size", "rep_id"])
            pipe.hkeys(k.cluster_members(cid))
        raw = pipe.execute()
        listed = [(cid, raw[2 * i][0], as_text(raw[2 * i][1]), [as_text(m) for m in raw[2 * i + 1]])
                  for i, cid in enumerate(ids)]
        pipe = self.client.pipeline(transaction=False)
        for _, size, _, members in listed:
            for m in members if size else ():
                pipe.pttl(k.headline(m))
        ttls = iter(pipe.execute())
        for cid, size, rep, members in listed:
            if not size or not members:
                out.gone.append(cid)
                continue
            left = {m: next(ttls) for m in members}  # ms; -2: gone, -1: no expiry
            leaving = [m for m, t in left.items() if t == -2 or 0 <= t < self.guard * 1000]
            if len(leaving) == len(members):
                out.whole.append(cid)
                continue
            gone = set(leaving)
            staying = [t for m, t in left.items() if m not in gone]
            if rep in leaving:  # it speaks for the cluster: it stays while the others do
                leaving.remove(rep)
                longest = max(staying)
                if longest > 0:
                    out.keep_alive[rep] = longest
            expiring = [t for t in staying if t >= 0]
            out.prunes.append(Prune(cid, tuple(leaving), int(size) - len(leaving),
                                    now + min(expiring) / 1000 if expiring else None))
        return out

    def stage(self, pipe, due: Due) -> None:
        """Queue the prunes (on the caller's fenced transaction); `whole` is the caller's (expire.lua)."""
        k = self.keys
        if due.gone:
            pipe.zrem(k.aging, *due.gone)
        for hid, ttl in due.keep_alive.items():
            pipe.pexpire(k.headline(hid), ttl)
        for p in due.prunes:
            if p.leaving:
                lua.run(self._prune, [k.df, k.meta, k.aging, *cluster_keys(k, [p.cluster_id]),
                                      *(k.headline(h) for h in p.leaving)],
                        [p.cluster_id, "" if p.next_due is None else repr(p.next_due), *p.leaving], pipe)
            elif p.next_due is None:
                pipe.zrem(k.aging, p.cluster_id)
            else:
                pipe.zadd(k.aging, {p.cluster_id: p.next_due})

    def adopt(self, retention_seconds: float, page: int = 1000) -> int:
        """List the clusters an earlier version wrote (they are not in `aging`) by their first member's record
        expiry, once per namespace; returns how many."""
        k = self.keys
        if self.client.hget(k.meta, ADOPTED):
            return 0
        listed, start = 0, 0
        while True:
            ids = [as_text(c) for c in self.client.zrange(k.clusters, start, start + page - 1)]
            if not ids:
                break
            pipe = self.client.pipeline(transaction=False)
            for cid in ids:
                pipe.hget(k.cluster(cid), "first_seen")
            firsts = pipe.execute()
            due = {cid: float(f) + retention_seconds for cid, f in zip(ids, firsts) if f}
            if due:
                self.client.zadd(k.aging, due, nx=True)
            listed += len(due)
            start += page
        self.client.hset(k.meta, ADOPTED, 1)
        return listed
