"""The worker's retention run: clusters past retention expire, members leave the clusters that live on as their
records expire, the band index is swept, and the events and dead letters are trimmed to retention."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import redis

from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.retention import MemberRetention, guard_seconds
from headline_dedup.storage.store import Fence, RedisStore, fenced_pipeline

STALE_PER_RUN = 1000  # clusters past retention expired per page
DUE_PER_RUN = 500  # clusters with members due looked at per page


class Expiry:
    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings, store: RedisStore, index):
        self.client, self.keys, self.settings, self.store, self.index = client, keys, settings, store, index
        self.retention_seconds = settings.retention_days * 86400
        self.members = MemberRetention(client, keys,
                                       guard_seconds(self.retention_seconds, settings.expiry_interval_seconds))

    def adopt(self) -> int:
        """List the clusters an earlier version wrote for their members' retention (once per namespace)."""
        return self.members.adopt(self.retention_seconds)

    def run(self, lock: redis.lock.Lock, stage_event: Callable[[object, str, dict], None]) -> list[str]:
        """One pass, under the clustering lock, so that no batch writes to these clusters meanwhile;
        `stage_event(pipe, kind, payload)` queues an event. Pages of clusters until none is due, or for half the
        lock's lifetime (a busy namespace expires more clusters a minute than one page holds). Returns the
        clusters that expired."""
        expired: list[str] = []
        deadline = time.monotonic() + self.settings.lock_ttl_ms / 2000
        while True:
            page, more = self._page(Fence.of(lock), stage_event)
            expired += page
            if not more or time.monotonic() > deadline:
                break
            lock.reacquire()
        # The band index's fields that no new headline writes: a full pass per time bucket.
        self.index.sweep(self.settings.expiry_interval_seconds / self.index.bucket_seconds)
        # Events and dead letters older than retention are of nothing they describe any more (their length cap
        # alone let a busy namespace keep a million events).
        horizon = f"{int((time.time() - self.retention_seconds) * 1000)}-0"
        for stream in (self.keys.events, self.keys.dead):
            self.client.xtrim(stream, minid=horizon, approximate=False)
        return expired

    def _page(self, fence: Fence, stage_event) -> tuple[list[str], bool]:
        """Expire a page of clusters and prune a page of members: (the clusters expired, whether more are due)."""
        now = time.time()
        stale = self.store.stale_clusters(now - self.retention_seconds, limit=STALE_PER_RUN)
        due = self.members.due(now, limit=DUE_PER_RUN)
        expired = list(dict.fromkeys([*stale, *due.whole]))
        gone = set(expired)  # a cluster that expires whole is not pruned as well
        prunes = [p for p in due.prunes if p.cluster_id not in gone]
        due = replace(due, prunes=prunes)
        if expired or due.gone or due.prunes or due.keep_alive:
            with fenced_pipeline(self.client, fence) as pipe:
                self.store.stage_expiry(pipe, expired)
                for cid in expired:
                    stage_event(pipe, "cluster.expired", {"cluster_id": cid})
                self.members.stage(pipe, due)
                for p in due.prunes:
                    if p.leaving:
                        stage_event(pipe, "cluster.members_expired",
                                    {"cluster_id": p.cluster_id, "size": p.size, "members": list(p.leaving)})
                pipe.execute()
        return expired, len(stale) == STALE_PER_RUN or due.listed == DUE_PER_RUN
