"""The clustering worker: reads the ingest stream through a consumer group, in batches, runs the engine, and
commits state, events and acknowledgements in one transaction.

Restart-safe: a message is acknowledged only in the transaction that writes its outcome; one delivered again
finds its headline already decided and is only acknowledged; entries of a dead consumer are reclaimed with
XAUTOCLAIM. Several workers may run: claiming and deciding a batch happen under one lock, so two near-duplicates
arriving at once cannot both open a cluster, and batches are decided in stream order: the clusters are those one
worker makes (more workers add availability, not clustering throughput). A message that makes the engine fail
goes to the dead-letter stream with its error, and the rest of its batch flows on.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

import redis
from redis.exceptions import LockError, LockNotOwnedError

from headline_dedup.logs import get_logger
from headline_dedup.settings import Settings
from headline_dedup.storage.assembly import redis_engine
from headline_dedup.storage.consumers import prune_consumers
from headline_dedup.storage.deadletters import stage_dead_letter
from headline_dedup.storage.events import stage_event
from headline_dedup.storage.keys import INGEST_GROUP, Keys
from headline_dedup.storage.policy import PolicyStore
from headline_dedup.storage.store import Fence, RedisStore, as_text
from headline_dedup.workers.embedahead import EmbedAhead, headline_of
from headline_dedup.workers.expiry import Expiry
from headline_dedup.workers.roles import Role, is_transient

log = get_logger("headline_dedup.worker")
RELEASE_IF_OURS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def ensure_group(client: redis.Redis, keys: Keys) -> None:
    try:
        client.xgroup_create(keys.ingest, INGEST_GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class Clusterer(Role):
    def __init__(self, client: redis.Redis, settings: Settings, name: str | None = None):
        self.client, self.settings = client, settings
        self.keys = Keys(settings.key_prefix, settings.namespace)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
        self.store = RedisStore(client, self.keys, record_ttl=settings.retention_days * 86400)
        self.engine = redis_engine(client, self.keys, settings, self.store, cluster_id_for=lambda hid: f"c{hid}")
        self.ahead = (EmbedAhead(client, self.keys, self.engine, settings.worker_batch, self.name)
                      if self.engine.judge else None)
        log.info("engine", worker=self.name, namespace=settings.namespace,
                 vectors=self.engine.dense.encoder.name if self.engine.dense else "none",
                 judge=self.engine.judge.source.encoder.name if self.engine.judge else "none")
        self.policies = PolicyStore(client, self.keys, settings)
        self.expiry = Expiry(client, self.keys, settings, self.store, self.engine.index)
        moved = self.engine.index.adopt_wide_buckets()  # an index written by an earlier version
        if moved:
            log.info("band index moved to the packed layout", entries=moved, worker=self.name)
        listed = self.expiry.adopt()
        if listed:
            log.info("clusters listed for their members' retention", clusters=listed, worker=self.name)
        super().__init__()
        self._next_expiry = 0.0
        self._held: list = []  # a batch claimed but not yet committed (a Redis fault interrupted it)
        self._chunk = settings.worker_batch  # messages decided per commit; halved when a commit loses the lock
        self._unreleased: bytes | None = None  # the token of a lock whose release failed
        self._release_if_ours = client.register_script(RELEASE_IF_OURS)
        ensure_group(client, self.keys)

    def step(self) -> None:
        """One batch (held back by a fault, reclaimed from a dead worker, or new), and now and then the
        retention sweep."""
        if self._held:
            with self._lock() as lock:
                self.handle(self._held, lock)
        reclaimed = self._reclaim()
        if reclaimed:
            with self._lock() as lock:
                self.handle(reclaimed, lock)
        elif (delivered := self._new_entries_waiting()) is not None and self._embedded_ahead(delivered):
            # The next batch is claimed only by the lock holder, so batches are decided in stream order: any
            # number of workers gives the clusters one worker gives.
            with self._lock() as lock:
                messages = self._read()
                if messages:
                    self.handle(messages, lock)
        if time.monotonic() >= self._next_expiry:
            self.expire_clusters()

    def _embedded_ahead(self, delivered: str) -> bool:
        """The semantic tier's embeddings, outside the lock (see EmbedAhead); whether the next batch is ready to
        be decided (no other worker is still embedding it: decided now, it would be embedded twice)."""
        if self.ahead is None:
            return True
        claimed = self.ahead.run(after=delivered)
        if not self.ahead.being_embedded(after=delivered):
            return True
        if not claimed:
            time.sleep(0.05)  # nothing left to embed ahead either
        return False

    @contextmanager
    def _lock(self):
        """The clustering lock: one batch is decided at a time, whatever the number of workers. A lock this
        worker could not release (Redis went away under it) is released as soon as Redis answers again, rather
        than left to block every worker, this one included, until its TTL runs out."""
        if self._unreleased is not None:
            self._release_if_ours(keys=[self.keys.lock], args=[self._unreleased])
            self._unreleased = None
        ttl = self.settings.lock_ttl_ms / 1000
        lock = self.client.lock(self.keys.lock, timeout=ttl, blocking_timeout=ttl * 3)
        if not lock.acquire():
            raise LockError("the clustering lock stayed taken")
        try:
            yield lock
        finally:
            token = lock.local.token
            try:
                lock.release()
            except LockNotOwnedError:
                pass  # it expired: nothing to release
            except redis.RedisError:
                self._unreleased = token

    def expire_clusters(self) -> list[str]:
        """Remove clusters past retention (`cluster.expired`) and members whose records expire from the clusters
        that live on (`cluster.members_expired`), see `Expiry`; forget idle consumers. Returns the clusters
        that expired."""
        self._next_expiry = time.monotonic() + self.settings.expiry_interval_seconds
        with self._lock() as lock:
            expired = self.expiry.run(lock, self._stage_event)
        prune_consumers(self.client, self.keys.ingest, INGEST_GROUP, keep=self.name)
        return expired

    def _new_entries_waiting(self) -> str | None:
        """Wait up to `worker_block_ms` for entries no consumer has been given yet, without claiming them; the
        group's last delivered id when some wait, else None."""
        try:
            groups = self.client.xinfo_groups(self.keys.ingest)
        except redis.ResponseError:  # no stream: a flushed or replaced Redis
            groups = []
        group = next((g for g in groups if as_text(g["name"]) == INGEST_GROUP), None)
        if group is None:
            ensure_group(self.client, self.keys)
            return None
        delivered = as_text(group["last-delivered-id"])
        resp = self.client.xread({self.keys.ingest: delivered}, count=1, block=self.settings.worker_block_ms)
        return delivered if resp else None

    def _read(self):
        """Claim the next batch (under the lock; does not wait: another worker may have taken it)."""
        resp = self.client.xreadgroup(INGEST_GROUP, self.name, {self.keys.ingest: ">"},
                                      count=self.settings.worker_batch)
        return resp[0][1] if resp else []

    def _reclaim(self):
        """Entries a dead consumer left pending; those delivered `max_deliveries` times go to the dead letters
        (they keep killing the workers that take them)."""
        resp = self.client.xautoclaim(self.keys.ingest, INGEST_GROUP, self.name, self.settings.claim_idle_ms,
                                      "0-0", count=self.settings.worker_batch)
        messages = [m for m in resp[1] if m[1]]
        if not messages:
            return []
        ids = [as_text(mid) for mid, _ in messages]
        pending = self.client.xpending_range(self.keys.ingest, INGEST_GROUP, min=ids[0], max=ids[-1],
                                             count=len(ids) + 100, consumername=self.name)
        deliveries = {as_text(p["message_id"]): p["times_delivered"] for p in pending}
        keep = []
        for mid, f in messages:
            n = deliveries.get(as_text(mid), 1)
            if n >= self.settings.max_deliveries:
                fields = {as_text(k): as_text(v) for k, v in f.items()}
                self._dead_letter((fields, as_text(mid)), RuntimeError(f"delivered {n} times without completing"))
            else:
                keep.append((mid, f))
        return keep

    def handle(self, messages, lock) -> None:
        """Decide and commit one batch of (entry id, fields) messages in stream order, holding the clustering
        `lock`, a chunk per fenced commit. A Redis fault leaves the uncommitted rest held for the next step;
        a commit that finds the lock lost halves the chunk, so a batch too long for the lock's TTL still goes
        through."""
        self._held = list(messages)
        while self._held:
            chunk = self._held[:self._chunk]
            self.store.fence = Fence.of(lock)
            try:
                self._handle_chunk(chunk, lock)
            except (LockNotOwnedError, redis.WatchError):
                self._chunk = max(1, self._chunk // 2)
                log.warning("clustering lock lost before the commit; retrying in smaller batches",
                            worker=self.name, batch=self._chunk)
                raise
            finally:
                self.store.fence = None
            del self._held[:len(chunk)]
            lock.reacquire()  # a fresh lifetime for the next chunk (raises if the lock was lost meanwhile)
        self._chunk = min(self.settings.worker_batch, self._chunk * 2)

    def _handle_chunk(self, messages, lock) -> None:
        fields = [({as_text(k): as_text(v) for k, v in f.items()}, as_text(mid)) for mid, f in messages]
        done = self._already_decided([f["id"] for f, _ in fields])
        if done:
            acked = [mid for f, mid in fields if f["id"] in done]
            self.client.xack(self.keys.ingest, INGEST_GROUP, *acked)
            self.client.xdel(self.keys.ingest, *acked)
        todo = [(f, mid) for f, mid in fields if f["id"] not in done]
        if not todo:
            return
        try:
            self._decide(todo)
        except Exception as exc:
            if is_transient(exc):
                raise
            # Isolate the poison message: retry one by one.
            log.exception("batch failed; retrying its messages one by one", messages=len(todo))
            for item in todo:
                lock.reacquire()  # a fresh lifetime for each message: the batch may be long to go through
                try:
                    self._decide([item])
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    self._dead_letter(item, exc)

    def _already_decided(self, ids):
        pipe = self.client.pipeline(transaction=False)
        for hid in ids:
            pipe.hget(self.keys.headline(hid), "status")
        return {hid for hid, st in zip(ids, pipe.execute()) if as_text(st) in ("clustered", "rejected")}

    def _decide(self, todo) -> None:
        headlines = [headline_of(f) for f, _ in todo]
        by_id = {f["id"]: f for f, _ in todo}
        entry_ids = [mid for _, mid in todo]

        def events_and_ack(pipe, outcome):
            for d in outcome.decisions:
                self._stage_events(pipe, d, by_id[d.headline_id])
            pipe.xack(self.keys.ingest, INGEST_GROUP, *entry_ids)
            pipe.xdel(self.keys.ingest, *entry_ids)  # the stream length is then the backlog

        self.store.extra_writes = events_and_ack
        self.engine.set_policy(self.policies.current())  # an admin's change applies from the next batch
        foreseen = self.ahead is not None and self.ahead.embedded(entry_ids)  # no second dry run
        decisions = self.engine.process(headlines, foreseen=foreseen)
        self._log_outcomes(decisions, by_id)

    def _log_outcomes(self, decisions, by_id) -> None:
        """One record per request whose headlines this batch decided, with that request's id."""
        outcomes: dict[str, Counter] = defaultdict(Counter)
        for d in decisions:
            rid = by_id[d.headline_id].get("rid") or ""
            outcomes[rid]["rejected" if d.cluster_id is None else "created" if d.created else "joined"] += 1
        for rid, counts in outcomes.items():
            log.info("clustered", request_id=rid or None, worker=self.name, **counts)

    def _stage_events(self, pipe, d, f) -> None:
        member = {"id": d.headline_id, "client_id": f.get("client_id") or None, "text": f["text"],
                  "source": f.get("source") or None, "score": round(d.score, 4), "reason": d.reason}
        if d.cluster_id is None:
            events = [("headline.rejected", {"headline": member})]
        elif d.created:
            events = [("cluster.created", {"cluster_id": d.cluster_id, "size": d.cluster_size, "member": member})]
        else:
            events = [("cluster.updated", {"cluster_id": d.cluster_id, "size": d.cluster_size, "member": member})]
            if d.representative_changed:
                events.append(("cluster.representative_changed",
                               {"cluster_id": d.cluster_id, "size": d.cluster_size, "representative": member}))
        for kind, payload in events:
            self._stage_event(pipe, kind, payload)

    def _stage_event(self, pipe, kind: str, payload: dict) -> None:
        stage_event(pipe, self.keys, kind, payload, self.settings.events_maxlen)

    def _dead_letter(self, item, exc: Exception) -> None:
        f, mid = item
        error = f"{type(exc).__name__}: {exc}"
        log.error("dead letter", entry_id=mid, headline_id=f.get("id"), request_id=f.get("rid") or None, error=error)
        member = {"id": f.get("id"), "text": f.get("text"), "source": f.get("source") or None, "score": 0.0,
                  "reason": "dead_letter"}
        stage_dead_letter(self.client, self.keys, f, mid, error, self.settings.dead_letters_maxlen,
                          int(self.settings.retention_days * 86400), events_maxlen=self.settings.events_maxlen,
                          event_data=json.dumps({"headline": member}, ensure_ascii=False))
