"""Workers on real Redis: parallel workers, crashes (SIGKILL), a Redis restart, dead letters."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from headline_dedup.evaluation import score
from headline_dedup.settings import Settings
from headline_dedup.storage.embedded import EmbeddedRedis
from headline_dedup.storage.keys import INGEST_GROUP, Keys
from tests.integration.helpers import dev_rows, running_workers, statuses, submit, wait_until_decided

ROOT = Path(__file__).resolve().parents[2]
FAST = dict(worker_block_ms=50, claim_idle_ms=1000, lock_ttl_ms=2000)


def _clusters(client, settings, rows, workers: int) -> list[str]:
    ids = submit(client, settings, rows, batch=50)
    with running_workers(client, settings, workers):
        hs = wait_until_decided(client, settings, ids)
    return [h.get("cluster_id") or f"x{i}" for i, h in enumerate(hs)]


def test_three_workers_make_the_clusters_one_worker_makes(redis_client):
    rows = dev_rows(2000)
    one = _clusters(redis_client, Settings(namespace="one", worker_batch=50, **FAST), rows, 1)
    three = _clusters(redis_client, Settings(namespace="three", worker_batch=50, **FAST), rows, 3)
    assert score(one, [r["cluster_id"] for r in rows]).pair_f1 > 0.4
    assert three == one  # batches are claimed under the lock, so decided in stream order


def _assert_each_clustered_once(client, settings, ids):
    keys = Keys(settings.key_prefix, settings.namespace)
    hs = statuses(client, settings, ids)
    assert all(h["status"] in ("clustered", "rejected") for h in hs)
    clustered = [hid for hid, h in zip(ids, hs) if h["status"] == "clustered"]
    members = {}
    for cid in {h["cluster_id"] for h in hs if h["status"] == "clustered"}:
        for m in client.hkeys(keys.cluster_members(cid)):
            members.setdefault(m.decode(), []).append(cid)
        assert int(client.hget(keys.cluster(cid), "size")) == client.hlen(keys.cluster_members(cid))
    assert sorted(members) == sorted(clustered)  # every clustered headline is a member ...
    assert all(len(c) == 1 for c in members.values())  # ... of exactly one cluster
    assert int(client.hget(keys.meta, "total")) == len(clustered)  # counted once in the document frequencies
    assert client.xlen(keys.ingest) == 0 and client.xpending(keys.ingest, INGEST_GROUP)["pending"] == 0


def _worker_process(url: str, settings_env: dict) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": url, **settings_env}
    return subprocess.Popen([sys.executable, "-m", "headline_dedup.workers"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _worker_env(batch: int, lock_ttl_ms: int) -> dict:
    return {"HEADLINE_DEDUP_WORKER_BATCH": str(batch), "HEADLINE_DEDUP_CLAIM_IDLE_MS": "1000",
            "HEADLINE_DEDUP_LOCK_TTL_MS": str(lock_ttl_ms), "HEADLINE_DEDUP_WORKER_BLOCK_MS": "50"}


def _kill_when(client, url: str, env: dict, ready, extra_delay: float = 0.0) -> None:
    """Start a worker process, wait until `ready()` (at most 30 s), wait `extra_delay`, SIGKILL it."""
    proc = _worker_process(url, env)
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(extra_delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _finish_with_one_worker(client, settings, url: str, env: dict, ids: list[str]) -> None:
    proc = _worker_process(url, env)
    try:
        wait_until_decided(client, settings, ids, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    _assert_each_clustered_once(client, settings, ids)


def test_worker_killed_mid_batch_loses_and_repeats_nothing(redis_client, redis_server):
    settings, env = Settings(worker_batch=100, **FAST), _worker_env(100, 2000)
    ids, keys = submit(redis_client, settings, dev_rows(2000)), Keys()

    def total():
        return int(redis_client.hget(keys.meta, "total") or 0)

    def pending():
        return redis_client.xpending(keys.ingest, INGEST_GROUP)["pending"]

    for _ in range(3):  # kill it three times while it holds a batch it has read but not acknowledged
        before = total()
        _kill_when(redis_client, redis_server.url, env, lambda: total() > before and pending() > 0)
    assert pending() > 0  # a batch was cut off
    _finish_with_one_worker(redis_client, settings, redis_server.url, env, ids)


def test_worker_sigkilled_at_random_points_over_20_runs(redis_client, redis_server):
    settings, env = Settings(worker_batch=25, **{**FAST, "lock_ttl_ms": 500}), _worker_env(25, 500)
    rows, keys, rng = dev_rows(2400), Keys(), random.Random(20)
    ids, cut_off = [], 0
    for run in range(20):
        ids += submit(redis_client, settings, rows[run * 120:(run + 1) * 120])  # fresh work for each run
        before = int(redis_client.hget(keys.meta, "total") or 0)
        # it is working, then dies anywhere: reading, deciding, committing, idle
        _kill_when(redis_client, redis_server.url, env,
                   lambda: int(redis_client.hget(keys.meta, "total") or 0) > before, rng.uniform(0, 0.1))
        cut_off += redis_client.xpending(keys.ingest, INGEST_GROUP)["pending"] > 0
    assert cut_off >= 5  # many kills did land inside a batch
    _finish_with_one_worker(redis_client, settings, redis_server.url, env, ids)
    print(f"20 SIGKILLs, {cut_off} inside a batch; {len(ids)} headlines, each clustered once")


def test_poison_message_goes_to_the_dead_letters_and_the_rest_flows(redis_client):
    settings = Settings(**FAST)
    keys = Keys()
    ids = submit(redis_client, settings, dev_rows(20))
    # A message the engine cannot take (its text field is gone) amid good ones.
    redis_client.xadd(keys.ingest, {"id": "poison", "lang": "fr"})
    later = submit(redis_client, settings, dev_rows(40)[20:])
    with running_workers(redis_client, settings, 1):
        wait_until_decided(redis_client, settings, ids + later)
        deadline = time.monotonic() + 10
        while redis_client.xlen(keys.dead) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    dead = redis_client.xrange(keys.dead)
    assert [d[1][b"id"] for d in dead] == [b"poison"] and b"error" in dead[0][1]
    assert redis_client.xlen(keys.ingest) == 0


def test_bundled_redis_restart_loses_nothing_acknowledged(tmp_path):
    for mode, crash in (("everysec", False), ("always", True)):
        server = EmbeddedRedis(tmp_path / mode, appendfsync=mode).start()
        client = redis.Redis.from_url(server.url)
        settings = Settings(**FAST)
        try:
            ids = submit(client, settings, dev_rows(500), batch=10)  # each submit returned = acknowledged
        finally:
            server.kill() if crash else server.stop()
        server = EmbeddedRedis(tmp_path / mode, appendfsync=mode).start()
        client = redis.Redis.from_url(server.url)
        try:
            hs = statuses(client, settings, ids)
            assert all(h.get("status") == "queued" for h in hs), mode
            assert client.xlen(Keys().ingest) == 500
            with running_workers(client, settings, 1):
                wait_until_decided(client, settings, ids)
        finally:
            client.close()
            server.stop()


def test_clusters_past_retention_expire_with_an_event(redis_client):
    settings = Settings(retention_days=2 / 86400, expiry_interval_seconds=0.2, **FAST)  # two seconds
    keys = Keys()
    ids = submit(redis_client, settings, dev_rows(30))
    with running_workers(redis_client, settings, 1):
        hs = wait_until_decided(redis_client, settings, ids)
        clusters = {h["cluster_id"] for h in hs if h.get("cluster_id")}
        deadline = time.monotonic() + 15
        while redis_client.zcard(keys.clusters) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert redis_client.zcard(keys.clusters) == 0
    assert redis_client.hlen(keys.exact) == 0  # nothing of an expired cluster is left behind
    assert redis_client.hlen(keys.df) == 0  # nor its headlines' document frequencies and count
    assert int(redis_client.hget(keys.meta, "total")) == 0
    assert not any(redis_client.exists(keys.cluster(c), keys.cluster_tokens(c), keys.cluster_members(c))
                   for c in clusters)
    events = redis_client.xrange(keys.events)
    expired = [json.loads(f[b"data"])["cluster_id"] for _, f in events if f[b"type"] == b"cluster.expired"]
    assert sorted(expired) == sorted(clusters)
    assert len(events) < len(hs) + len(expired)  # the events of the expired headlines went with them
