"""The per-process events reader: subscribers behind its memory read Redis, none misses or repeats an event, and
a stopped hub ends every stream."""
import threading
import time

from headline_dedup.storage.eventhub import EventHub, follow
from headline_dedup.storage.events import EventFilter, EventLog
from headline_dedup.storage.keys import Keys


def _add(client, n, start=0):
    return [client.xadd(Keys().events, {"type": "cluster.created", "data": f'{{"n": {i}}}'}).decode()
            for i in range(start, start + n)]


def test_subscribers_inside_and_behind_the_hubs_memory_get_every_event_once_in_order(redis_client):
    log = EventLog(redis_client, Keys())
    hub = EventHub(redis_client, Keys(), capacity=10, block_ms=100).start()
    try:
        deadline = time.monotonic() + 5
        while hub.after("0-0") is None and time.monotonic() < deadline:  # started: it remembers from now on
            time.sleep(0.01)
        ids = _add(redis_client, 60)  # six times what it keeps in memory
        got = {"behind": [], "live": []}

        def read(name, after):
            for e in follow(hub, log, after, EventFilter(), heartbeat_seconds=0.2):
                if e is not None:
                    got[name].append(e.id)
                if len(got[name]) == len(ids) or time.monotonic() > deadline + 10:
                    return

        threads = [threading.Thread(target=read, args=("behind", "0-0")),
                   threading.Thread(target=read, args=("live", "0-0"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        assert got["behind"] == ids and got["live"] == ids
        # A subscriber may have read the last events from Redis before the hub's own read took them in.
        while hub.after(ids[-1]) != [] and time.monotonic() < deadline + 10:
            time.sleep(0.01)
        assert hub.after(ids[10]) is None  # memory holds the newest 10 only
        assert [e.id for e in hub.after(ids[-10])] == ids[-9:] and hub.after(ids[-1]) == []
    finally:
        hub.stop()


def test_a_stopped_hub_ends_its_streams(redis_client):
    log = EventLog(redis_client, Keys())
    hub = EventHub(redis_client, Keys(), block_ms=100).start()
    ended = threading.Event()

    def read():
        for _ in follow(hub, log, log.last_id(), EventFilter(), heartbeat_seconds=30):
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.3)
    hub.stop()
    assert ended.wait(5)


def test_a_hub_stopped_before_its_redis_does_not_report_the_shutdown_as_a_fault(tmp_path):
    import redis
    from structlog.testing import capture_logs

    from headline_dedup.storage.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "r").start()
    hub = EventHub(redis.Redis.from_url(server.url), Keys(), block_ms=1000).start()
    deadline = time.monotonic() + 5
    while hub.after("0-0") is None and time.monotonic() < deadline:  # reading: blocked in XREAD
        time.sleep(0.01)
    with capture_logs() as logged:
        hub.stop()
        server.stop()  # the blocked read fails now
        hub._thread.join(5)
    assert not hub._thread.is_alive() and not [e for e in logged if "redis fault" in e["event"]]
