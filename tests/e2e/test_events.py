"""Server-Sent Events through a real threaded HTTP server, with a real worker producing the events."""
import threading
import time

import pytest
import redis
import requests

from headline_dedup.sse import parse
from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.service import create_app
from tests.e2e.conftest import open_streams_then_post, threaded_server
from tests.integration.helpers import dev_rows, running_workers, submit, wait_until_decided

SETTINGS = Settings(worker_block_ms=50, sse_heartbeat_seconds=0.5)


@pytest.fixture
def live(redis_client, redis_server):
    # The service's pool size (a concurrent burst of 200 openings needs more than redis-py's default pool).
    client = redis.Redis.from_url(redis_server.url, max_connections=SETTINGS.redis_max_connections)
    with threaded_server(create_app(SETTINGS, client)) as url:
        yield url, redis_client


def _events(url, headers=None, params=None):
    resp = requests.get(f"{url}/v1/events", headers=headers or {}, params=params, stream=True, timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    return resp, parse(resp.iter_lines(decode_unicode=True))


def _all_ids(client):
    return [e[0].decode() for e in client.xrange(Keys().events)]


def test_cut_off_subscriber_resumes_with_last_event_id_exactly_once_in_order(live):
    url, client = live
    ids = submit(client, SETTINGS, dev_rows(1000))
    with running_workers(client, SETTINGS, 1):
        wait_until_decided(client, SETTINGS, ids)
    expected = _all_ids(client)
    assert len(expected) >= 1000
    got = []
    resp, stream = _events(url, params={"since": "0-0"})
    for e in stream:  # cut off in the middle
        if e.id:
            got.append(e.id)
        if len(got) == len(expected) // 2:
            break
    resp.close()
    resp, stream = _events(url, headers={"Last-Event-ID": got[-1]})
    for e in stream:
        if e.id:
            got.append(e.id)
        if got[-1] == expected[-1]:
            break
    resp.close()
    assert got == expected


def test_200_concurrent_subscribers_each_receive_every_event(live):
    url, client = live
    n, ready, results = 200, threading.Barrier(201, timeout=60), {}
    done = threading.Event()
    last = {}

    def subscriber(i):
        resp, stream = _events(url)
        got = []
        try:
            for e in stream:
                if e.event == "comment" and not got and i not in results:
                    results[i] = got
                    ready.wait()
                if e.id:
                    got.append(e.id)
                if done.is_set() and got and got[-1] == last["id"]:
                    return
        finally:
            resp.close()

    threads = [threading.Thread(target=subscriber, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    ready.wait()  # every subscriber is connected
    ids = submit(client, SETTINGS, dev_rows(1000))
    with running_workers(client, SETTINGS, 1):
        wait_until_decided(client, SETTINGS, ids)
    expected = _all_ids(client)
    last["id"] = expected[-1]
    done.set()
    for t in threads:
        t.join(60)
    assert len(results) == n
    assert all(got == expected for got in results.values())


def test_resuming_from_a_trimmed_id_gets_a_reset(redis_client, redis_server):
    keys = Keys()
    for i in range(1100):
        redis_client.xadd(keys.events, {"type": "cluster.created", "data": "{}"}, id=f"{1000 + i}-0")
    redis_client.xtrim(keys.events, maxlen=1000, approximate=False)  # as the workers' MAXLEN ~ trims it
    app = create_app(Settings(events_maxlen=1000), redis.Redis.from_url(redis_server.url))
    with threaded_server(app) as url:
        resp, stream = _events(url, headers={"Last-Event-ID": "1050-0"})
        first = next(stream)
        resp.close()
    assert first.event == "reset" and first.data["resync"] == "/v1/clusters" and first.id == "2099-0"


def test_resuming_before_the_first_event_of_an_untrimmed_stream_replays_it_all(live):
    url, client = live
    for i in range(3):
        client.xadd(Keys().events, {"type": "cluster.created", "data": "{}"}, id=f"{1000 + i}-0")
    resp, stream = _events(url, params={"since": "1-0"})
    got = [e for _, e in zip(range(4), stream)]
    resp.close()
    assert [e.id for e in got if e.id] == ["1000-0", "1001-0", "1002-0"]  # no reset: nothing was trimmed


def test_filters_and_heartbeat(live):
    url, client = live
    keys = Keys()
    client.xadd(keys.events, {"type": "cluster.updated", "data": '{"cluster_id": "c1", "size": 3}'}, id="1-0")
    client.xadd(keys.events, {"type": "cluster.created", "data": '{"cluster_id": "c2", "size": 1}'}, id="2-0")
    client.xadd(keys.events, {"type": "cluster.updated", "data": '{"cluster_id": "c2", "size": 2}'}, id="3-0")
    resp, stream = _events(url, params={"since": "0-0", "types": "cluster.updated", "min_size": 3})
    seen = []
    for e in stream:
        seen.append(e)
        if e.event == "comment" and len(seen) > 2:
            break
    resp.close()
    assert [e.id for e in seen if e.id] == ["1-0"]
    assert any(e.event == "comment" for e in seen[1:])  # heartbeats while idle
    bad = requests.get(f"{url}/v1/events", params={"types": "nope"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "types"
    misspelt = requests.get(f"{url}/v1/events", params={"cluster_id": "c2"}, timeout=5)  # the filter is `cluster`
    assert misspelt.status_code == 422
    assert misspelt.json()["error"] == {"code": "invalid_field", "message": "unknown field 'cluster_id'",
                                        "field": "cluster_id"}


def test_a_polyfill_resumes_with_last_event_id_in_the_query(live):
    """EventSource polyfills that cannot send the header put it in the URL beside the first `since`."""
    url, client = live
    keys = Keys()
    for i in (1, 2, 3):
        client.xadd(keys.events, {"type": "cluster.created", "data": f'{{"cluster_id": "c{i}", "size": 1}}'},
                          id=f"{i}-0")
    resp, stream = _events(url, params={"since": "0-0", "lastEventId": "2-0"})
    first = next(e for e in stream if e.id)
    resp.close()
    assert first.id == "3-0"


def test_idle_streams_hold_no_redis_connection_so_they_cannot_starve_posts(redis_client, redis_server):
    """40 open streams on a pool of 20 connections: every stream used to hold one, and POSTs got 503s."""
    client = redis.Redis.from_url(redis_server.url, max_connections=20)
    with threaded_server(create_app(Settings(), client)) as url:  # the default heartbeat and timeouts
        open_streams_then_post(url, 40, 10)


def test_open_streams_beyond_the_limit_are_refused_with_503(redis_client, redis_server):
    # A server notices a gone client when it next writes to it: the heartbeat, here each second.
    app = create_app(Settings(max_event_streams=2, sse_heartbeat_seconds=1), redis.Redis.from_url(redis_server.url))
    with threaded_server(app) as url:
        first, _ = _events(url)
        second, _ = _events(url)
        third = requests.get(f"{url}/v1/events", timeout=10)
        assert third.status_code == 503 and third.json()["error"]["code"] == "too_many_streams"
        assert third.headers["Retry-After"]
        first.close()
        deadline = time.monotonic() + 10  # a closed stream frees its place
        while True:
            again = requests.get(f"{url}/v1/events", stream=True, timeout=10)
            again.close()
            if again.status_code == 200:
                break
            assert time.monotonic() < deadline
            time.sleep(0.2)
        second.close()


@pytest.mark.parametrize("since", ["18446744073709551616-0", "1-18446744073709551616", "abc", "1-2-3"])
def test_a_resume_id_that_is_no_stream_id_is_400(live, since):
    url, _ = live
    r = requests.get(f"{url}/v1/events", params={"since": since}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["field"] == "since"
    r = requests.get(f"{url}/v1/events", headers={"Last-Event-ID": since}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["field"] == "Last-Event-ID"
