"""Roles outlive Redis faults that are not connection errors, report it through their heartbeats, and never
commit over another worker's decisions after losing the clustering lock."""
import threading
import time

from headline_dedup.settings import Settings
from headline_dedup.storage.heartbeats import Heartbeats
from headline_dedup.storage.keys import INGEST_GROUP, Keys
from tests.integration.helpers import dev_rows, running, running_workers, statuses, submit, wait_until_decided
from headline_dedup.workers.clusterer import Clusterer
from headline_dedup.workers.roles import is_transient


def test_a_clusterer_waits_out_redis_refusing_writes_and_says_so_meanwhile(redis_client):
    settings = Settings(heartbeat_ttl=2)  # the rest at their defaults
    beats = Heartbeats(redis_client, Keys(), settings.heartbeat_ttl)
    first = submit(redis_client, settings, dev_rows(50))
    with running_workers(redis_client, settings, 1) as (worker,):
        wait_until_decided(redis_client, settings, first)
        _wait_for(lambda: beats.fresh()["clusterer"])  # it beats once its step is over
        assert beats.fresh()["clusterer"] == [worker.name]
        used = int(redis_client.info("memory")["used_memory"])
        # Acknowledged, then Redis refuses writes; the test holds the clustering lock meanwhile, so that the
        # worker cannot take them before the refusal starts.
        redis_client.set(Keys().lock, "held by the test", px=30_000)
        later = submit(redis_client, settings, dev_rows(100)[50:])
        redis_client.config_set("maxmemory", str(used // 2))
        redis_client.delete(Keys().lock)  # a deletion is allowed past maxmemory
        try:
            _wait_for(lambda: not beats.fresh()["clusterer"])
            assert beats.fresh()["clusterer"] == []  # not working, and it shows
            assert all(h["status"] == "queued" for h in statuses(redis_client, settings, later))
        finally:
            redis_client.config_set("maxmemory", "0")
        wait_until_decided(redis_client, settings, later, timeout=30)  # the same thread, no restart
        _wait_for(lambda: beats.fresh()["clusterer"])
        assert beats.fresh()["clusterer"] == [worker.name]
        assert worker.stopping.is_set() is False
    assert redis_client.xlen(Keys().dead) == 0  # a fault is not the messages' fault


def _wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_oom_inside_a_script_is_a_transient_fault():
    import redis

    wrapped = redis.ResponseError("Error running script (call to f_1): @user_script:12: -OOM command not allowed "
                                  "when used memory > 'maxmemory'.")
    assert is_transient(wrapped) and is_transient(redis.exceptions.OutOfMemoryError("OOM"))
    assert not is_transient(redis.ResponseError("ERR wrong number of arguments")) and not is_transient(KeyError())


def test_batches_longer_than_the_lock_never_commit_over_another_workers(redis_client):
    settings = Settings(lock_ttl_ms=100, worker_batch=700, worker_block_ms=50, claim_idle_ms=1000)
    keys = Keys()
    rows = dev_rows(800)
    ids = submit(redis_client, settings, rows, batch=400)
    with running_workers(redis_client, settings, 1):
        wait_until_decided(redis_client, settings, ids)
    # The same stories again, twice: every batch now updates clusters that the other workers' batches update.
    again = [{**r, "row": f"{r['row']}-{n}"} for n in range(2) for r in rows]
    ids += submit(redis_client, settings, again, batch=400)
    with running_workers(redis_client, settings, 3):
        hs = wait_until_decided(redis_client, settings, ids, timeout=120)
    clustered = [hid for hid, h in zip(ids, hs) if h["status"] == "clustered"]
    members: dict[str, str] = {}
    for cid in {h["cluster_id"] for h in hs if h["status"] == "clustered"}:
        names = [m.decode() for m in redis_client.hkeys(keys.cluster_members(cid))]
        size = int(redis_client.hget(keys.cluster(cid), "size"))
        assert size == len(names), cid  # the profile agrees with the members: no lost update
        assert sum(int(n) for n in redis_client.hvals(keys.cluster_tokens(cid))) > 0
        for m in names:
            assert m not in members  # every headline in one cluster
            members[m] = cid
    assert sorted(members) == sorted(clustered)
    assert int(redis_client.hget(keys.meta, "total")) == len(clustered)
    assert redis_client.xpending(keys.ingest, INGEST_GROUP)["pending"] == 0


def test_restarted_workers_do_not_pile_up_in_the_consumer_group(redis_client):
    settings = Settings(worker_block_ms=50)
    keys = Keys()
    for i in range(5):  # five worker lifetimes, as five restarts would leave
        ids = submit(redis_client, settings, dev_rows(10 * (i + 1))[10 * i:])
        with running(Clusterer(redis_client, settings, name=f"life{i}")):
            wait_until_decided(redis_client, settings, ids)
    assert len(redis_client.xinfo_consumers(keys.ingest, INGEST_GROUP)) == 5
    from headline_dedup.storage.consumers import prune_consumers

    worker = Clusterer(redis_client, settings, name="new")
    gone = prune_consumers(redis_client, keys.ingest, INGEST_GROUP, keep=worker.name, idle_ms=0)
    assert len(gone) == 5 and redis_client.xinfo_consumers(keys.ingest, INGEST_GROUP) == []


def test_a_role_that_hits_a_bug_dies_loudly_instead_of_spinning(redis_client):
    settings = Settings(worker_block_ms=50)
    worker = Clusterer(redis_client, settings, name="buggy")

    def broken():
        raise ZeroDivisionError("a bug")

    worker.step = broken
    failed = []
    t = threading.Thread(target=lambda: failed.append(_run(worker)), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive() and failed == ["ZeroDivisionError"]


def _run(role) -> str | None:
    try:
        role.run()
    except Exception as exc:
        return type(exc).__name__
    return None


def test_a_worker_started_before_its_redis_waits_for_it(tmp_path):
    import os
    import subprocess
    import sys

    import redis

    from headline_dedup.storage.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "r")
    env = {**os.environ, "REDIS_URL": server.url}
    worker = subprocess.Popen([sys.executable, "-m", "headline_dedup.workers"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        assert worker.poll() is None  # still waiting, not dead
        server.start()
        client = redis.Redis.from_url(server.url)
        settings = Settings()
        ids = submit(client, settings, dev_rows(20))
        wait_until_decided(client, settings, ids, timeout=30)
    finally:
        worker.terminate()
        assert worker.wait(20) == 0
        server.stop()
