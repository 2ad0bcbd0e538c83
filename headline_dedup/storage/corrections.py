"""Editor corrections on Redis: merge, split and move, each under the clustering lock and written in one fenced
transaction with its events and its record in the corrections log.

Holding the lock a worker decides batches under, a correction reads the clusters it touches, rebuilds their
profiles from their members' texts (`corrections.rebuild`: counts, size, representative stay exactly what the
members make), and writes everything at once: nothing half-applied is ever visible, and a worker's next batch is
decided against the corrected state. Members whose records have expired (retention) leave the rebuilt cluster.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import redis

from headline_dedup.corrections import Member, rebuild
from headline_dedup.clustering import ClusterProfile
from headline_dedup.errors import Conflict, NotFound, Overloaded
from headline_dedup.normalize import Normalizer, default_normalizer
from headline_dedup.settings import Settings
from headline_dedup.times import iso_time
from headline_dedup.storage.events import stage_event
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import Fence, as_text, exact_field, fenced_pipeline
from headline_dedup.weights import Rarity

MAX_MERGED_HOPS = 20  # a chain of merges followed when reading an old cluster id


@dataclass
class _Cluster:
    """A cluster as a correction reads it: its hash, members (id -> join score) and the members' records."""

    id: str
    meta: dict[str, str]
    members: dict[str, str]
    records: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def exact(self) -> list[str]:
        return self.meta.get("exact", "").split()

    @property
    def apart(self) -> set[str]:
        return set(self.meta.get("apart", "").split())


class Corrections:
    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings, normalizer: Normalizer | None = None):
        self.client, self.keys, self.settings = client, keys, settings
        self.normalizer = normalizer or default_normalizer()

    # The three corrections. Each returns its record, as the corrections log and its event carry it.

    def merge(self, source: str, into: str, by: str | None) -> dict:
        """The members of cluster `source` join cluster `into`; `source` then answers with `merged_into`."""
        if source == into:
            raise Conflict("same_cluster", "a cluster cannot be merged into itself", "into")
        with self._locked() as fence:
            a, b = self._cluster(source), self._cluster(into, "into")
            record = {"type": "cluster.merged", "cluster_id": into, "merged": source, "by": by}
            members = {**b.members, **a.members}
            apart = (a.apart | b.apart) - {source, into}
            profile, lent = self._profile(into, [*b.records.items(), *a.records.items()],
                                          [b.meta.get("rep_id", ""), a.meta.get("rep_id", "")], apart)
            # What was set apart from the source is set apart from the whole now.
            others = {other: (self._apart_of(other) - {source}) | {into} for other in sorted(a.apart - {into})}
            with fenced_pipeline(self.client, fence) as pipe:
                now = time.time()
                exact = b.exact + a.exact
                for f in a.exact:
                    pipe.hset(self.keys.exact, f, into)
                for other, other_apart in others.items():
                    pipe.hset(self.keys.cluster(other), "apart", " ".join(sorted(other_apart)))
                self._write(pipe, profile, lent, members, exact, now, first_seen=_earliest(a, b))
                self._retire(pipe, a, into, now)
                self._reassign(pipe, list(a.members), into)
                record.update(size=profile.size, at=iso_time(now))
                self._log(pipe, record)
                pipe.execute()
        return record

    def split(self, cluster_id: str, headline_ids: Sequence[str], by: str | None) -> dict:
        """`headline_ids` (members of `cluster_id`) leave it for a new cluster, set apart from it."""
        wanted = list(dict.fromkeys(headline_ids))
        with self._locked() as fence:
            a = self._cluster(cluster_id)
            strangers = [h for h in wanted if h not in a.members]
            if strangers:
                raise Conflict("not_a_member", f"not members of {cluster_id}: {', '.join(strangers[:10])}",
                               "headlines")
            if len(wanted) >= len(a.members):
                raise Conflict("split_everything", "a split leaves at least one member behind (to move a "
                               "whole cluster, merge it)", "headlines")
            new_id = self._new_cluster_id()
            record = {"type": "cluster.split", "cluster_id": cluster_id, "new_cluster_id": new_id,
                      "headlines": wanted, "by": by}
            self._move_members(fence, a, wanted, None, new_id, record)
        return record

    def move(self, headline_id: str, cluster_id: str | None, by: str | None) -> dict:
        """A headline leaves its cluster for `cluster_id` (None: a new cluster of its own), set apart from it."""
        with self._locked() as fence:
            raw = {as_text(k): as_text(v) for k, v in self.client.hgetall(self.keys.headline(headline_id)).items()}
            if not raw:
                raise NotFound("headline_not_found", f"no headline {headline_id}")
            if raw.get("status") != "clustered" or not raw.get("cluster_id"):
                raise Conflict("not_clustered", f"headline {headline_id} is {raw.get('status') or 'queued'}: only a "
                               "clustered headline can be moved")
            a = self._cluster(raw["cluster_id"])
            if cluster_id == a.id:
                raise Conflict("same_cluster", f"headline {headline_id} is already in {cluster_id}", "cluster")
            if cluster_id is None and len(a.members) == 1:
                raise Conflict("already_alone", f"headline {headline_id} is its cluster's only member", "cluster")
            dest = self._cluster(cluster_id, "cluster") if cluster_id is not None else None
            new_id = cluster_id or self._new_cluster_id()
            record = {"type": "headline.moved", "headline_id": headline_id, "client_id": raw.get("client_id") or None,
                      "from": a.id, "cluster_id": new_id, "by": by}
            self._move_members(fence, a, [headline_id], dest, new_id, record)
        return record

    # Reading.

    def follow(self, cluster_id: str) -> tuple[str, list[str]]:
        """The cluster an old id now lives in, and the merged ids passed on the way (an id never merged: itself)."""
        path, current = [], cluster_id
        for _ in range(MAX_MERGED_HOPS):
            nxt = as_text(self.client.hget(self.keys.cluster(current), "merged_into"))
            if not nxt:
                break
            path.append(current)
            current = nxt
        return current, path

    def log(self, after: str = "-", limit: int = 100) -> tuple[list[dict], str | None]:
        """Corrections oldest first after the log id `after`, and the cursor of the next page (None: the end)."""
        start = after if after == "-" else f"({after}"
        page = self.client.xrange(self.keys.corrections, min=start, max="+", count=limit + 1)
        items = []
        for mid, raw in page[:limit]:
            f = {as_text(a): as_text(b) for a, b in raw.items()}
            items.append({"id": as_text(mid), "type": f.get("type"), **json.loads(f.get("data") or "{}")})
        return items, (items[-1]["id"] if len(page) > limit else None)

    # The parts.

    def _move_members(self, fence: Fence, a: _Cluster, moving: list[str], dest: _Cluster | None, dest_id: str,
                      record: dict) -> None:
        """`moving` leave `a` for `dest` (None: the new cluster `dest_id`); the two are set apart."""
        staying = {h: s for h, s in a.members.items() if h not in moving}
        going = {h: a.members[h] for h in moving}
        a_apart, dest_apart = a.apart | {dest_id}, (dest.apart if dest else set()) | {a.id}
        kept, kept_lent = self._profile(a.id, [(h, a.records[h]) for h in staying], [a.meta.get("rep_id", "")],
                                        a_apart)
        dest_members = {**(dest.members if dest else {}), **going}
        dest_records = [*(dest.records.items() if dest else ()), *((h, a.records[h]) for h in moving)]
        grown, grown_lent = self._profile(dest_id, dest_records, [dest.meta.get("rep_id", "")] if dest else [],
                                          dest_apart)
        # An exact-duplicate key follows the moved headlines unless a member staying behind has the same text.
        staying_keys = {self._key(a.records[h]) for h in staying}
        moved_keys = {self._key(a.records[h]) for h in moving} - staying_keys
        owned = self.client.hmget(self.keys.exact, sorted(moved_keys)) if moved_keys else []
        moved_keys = {k for k, owner in zip(sorted(moved_keys), owned) if as_text(owner) == a.id}
        with fenced_pipeline(self.client, fence) as pipe:
            now = time.time()
            for k in moved_keys:
                pipe.hset(self.keys.exact, k, dest_id)
            if kept.size:
                self._write(pipe, kept, kept_lent, staying, [f for f in a.exact if f not in moved_keys], now)
            else:  # its last member left: the old id follows it
                self._retire(pipe, a, dest_id, now)
            self._write(pipe, grown, grown_lent, dest_members, (dest.exact if dest else []) + sorted(moved_keys), now,
                        first_seen=dest.meta.get("first_seen") if dest else repr(now))
            self._reassign(pipe, moving, dest_id, placed={"placed_by": record["by"] or "", "placed_at": repr(now)})
            record.update(size=grown.size, from_size=kept.size, at=iso_time(now))
            self._log(pipe, record)
            pipe.execute()

    def _profile(self, cluster_id: str, records: Sequence[tuple[str, dict]], keep: Sequence[str],
                 apart: set[str]) -> tuple[ClusterProfile, Counter]:
        """The profile of the members with these records, and the token counts of those whose words it does not
        count (the semantic judge's joins: `lent`)."""
        members = []
        for hid, rec in records:
            n = self.normalizer.normalize(rec.get("text") or "", rec.get("lang") or "fr")
            members.append(Member(hid, tuple(n.tokens), n.kicker,
                                  float(rec.get("event_at") or rec.get("received_at") or 0),
                                  counted=rec.get("lent") != "1"))
        tokens = sorted({t for m in members for t in m.tokens})
        df_raw = self.client.hmget(self.keys.df, tokens) if tokens else []
        total = self.client.hget(self.keys.meta, "total")
        df = {t: int(v) for t, v in zip(tokens, df_raw) if v}
        lent = Counter(t for m in members if not m.counted for t in set(m.tokens))
        return rebuild(cluster_id, members, Rarity(df, int(total or 0)), keep, frozenset(apart)), lent

    def _key(self, record: dict) -> str:
        return exact_field(self.normalizer.normalize(record.get("text") or "", record.get("lang") or "fr").key)

    def _write(self, pipe, p: ClusterProfile, lent: Counter, members: dict[str, str], exact: list[str], now: float,
               first_seen: str | None = None) -> None:
        k = self.keys
        pipe.delete(k.cluster_tokens(p.cluster_id), k.cluster_members(p.cluster_id), k.cluster_lent(p.cluster_id))
        if p.counts:
            pipe.hset(k.cluster_tokens(p.cluster_id), mapping=p.counts)
        if lent:
            pipe.hset(k.cluster_lent(p.cluster_id), mapping=dict(lent))
        pipe.hset(k.cluster_members(p.cluster_id), mapping=members)
        fields = {"size": p.size, "rep_id": p.representative_id, "rep_tokens": json.dumps(p.representative_tokens),
                  "rep_kicker": p.representative_kicker, "latest": repr(p.latest), "last_seen": repr(now),
                  "exact": " ".join(dict.fromkeys(exact)), "apart": " ".join(sorted(p.apart))}
        if first_seen:
            fields["first_seen"] = first_seen
        pipe.hset(k.cluster(p.cluster_id), mapping=fields)
        pipe.zadd(k.clusters, {p.cluster_id: now})
        pipe.zadd(k.aging, {p.cluster_id: 0})  # its members changed: the next expiry run finds its oldest again

    def _retire(self, pipe, c: _Cluster, into: str, now: float) -> None:
        """An emptied cluster: its state goes, its id answers `merged_into` for the retention period."""
        k = self.keys
        pipe.delete(k.cluster(c.id), k.cluster_tokens(c.id), k.cluster_members(c.id), k.cluster_lent(c.id))
        pipe.hset(k.cluster(c.id), mapping={"merged_into": into, "merged_at": repr(now)})
        pipe.expire(k.cluster(c.id), int(self.settings.retention_days * 86400))
        pipe.zrem(k.clusters, c.id)
        pipe.zrem(k.aging, c.id)

    def _reassign(self, pipe, headline_ids: Sequence[str], cluster_id: str, placed: dict | None = None) -> None:
        for hid in headline_ids:  # members with a record (`_cluster`): HSET on an expired one would make a husk
            pipe.hset(self.keys.headline(hid), mapping={"cluster_id": cluster_id, **(placed or {})})

    def _log(self, pipe, record: dict) -> None:
        stage_correction(pipe, self.keys, self.settings, record["type"],
                         {k: v for k, v in record.items() if k != "type"})

    def _cluster(self, cluster_id: str, field_name: str | None = None) -> _Cluster:
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(k.cluster(cluster_id))
        pipe.hgetall(k.cluster_members(cluster_id))
        meta_raw, members_raw = pipe.execute()
        meta = {as_text(a): as_text(b) for a, b in meta_raw.items()}
        if meta.get("merged_into"):
            raise Conflict("cluster_merged", f"cluster {cluster_id} was merged into {meta['merged_into']}: correct "
                           "that one")
        if not meta.get("size"):
            raise NotFound("cluster_not_found", f"no cluster {cluster_id}", field_name)
        members = {as_text(a): as_text(b) for a, b in members_raw.items()}
        pipe = self.client.pipeline(transaction=False)
        for hid in members:
            pipe.hgetall(k.headline(hid))
        records = {hid: {as_text(a): as_text(b) for a, b in raw.items()}
                   for hid, raw in zip(members, pipe.execute()) if raw}
        # A member whose record has expired cannot be recounted: it leaves the cluster the correction rewrites.
        return _Cluster(cluster_id, meta, {h: s for h, s in members.items() if h in records}, records)

    def _apart_of(self, cluster_id: str) -> set[str]:
        return set((as_text(self.client.hget(self.keys.cluster(cluster_id), "apart")) or "").split())

    def _new_cluster_id(self) -> str:
        return f"e{self.client.hincrby(self.keys.meta, 'corrections', 1)}"

    def _locked(self):
        return _Held(self.client, self.keys, self.settings)


def stage_correction(pipe, keys: Keys, settings: Settings, kind: str, payload: dict) -> None:
    """Queue a correction (or a policy change) on a pipeline: an entry of the corrections log and an event."""
    pipe.xadd(keys.corrections, {"type": kind, "data": json.dumps(payload, ensure_ascii=False)},
              maxlen=settings.corrections_maxlen, approximate=True)
    stage_event(pipe, keys, kind, payload, settings.events_maxlen)


class _Held:
    """The clustering lock for one correction; yields the fence its transaction checks."""

    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings):
        ttl = settings.lock_ttl_ms / 1000
        self.lock = client.lock(keys.lock, timeout=ttl, blocking_timeout=ttl * 3)

    def __enter__(self) -> Fence:
        if not self.lock.acquire():
            raise Overloaded("busy", "the clustering lock stayed taken; retry")
        return Fence.of(self.lock)

    def __exit__(self, *exc) -> None:
        try:
            self.lock.release()
        except redis.exceptions.LockError:
            pass  # it expired: the fenced transaction wrote nothing


def _earliest(*clusters: _Cluster) -> str | None:
    seen = [float(c.meta["first_seen"]) for c in clusters if c.meta.get("first_seen")]
    return repr(min(seen)) if seen else None
