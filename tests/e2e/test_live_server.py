"""Through a real HTTP server (threaded werkzeug, as `serve` runs it) with real clients in parallel."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server

from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from service import create_app


@pytest.fixture
def live(redis_client):
    app = create_app(Settings(), redis_client)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_port}", redis_client
    server.shutdown()
    t.join(5)


def test_same_id_posted_100_times_concurrently_is_stored_once(live):
    url, client = live
    barrier = threading.Barrier(100)

    def post(i):
        barrier.wait()
        body = {"id": "wire-42", "text": "Redon attend le pic de la crue", "source": f"s{i % 3}"}
        r = requests.post(f"{url}/v1/headlines", json=body, timeout=30)
        assert r.status_code == 202, r.text
        return r.json()["headlines"][0]

    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(post, range(100)))
    assert len({r["id"] for r in results}) == 1
    assert sum(not r["duplicate_request"] for r in results) == 1
    keys = Keys()
    assert int(client.get(keys.seq)) == 1 and client.xlen(keys.ingest) == 1


def test_same_text_without_id_is_stored_once_per_source(live):
    url, client = live
    bodies = [{"text": "Zone euro: la croissance cale", "source": "afp"}] * 20 + \
             [{"text": "Zone euro: la croissance cale", "source": "reuters"}] * 20
    with ThreadPoolExecutor(40) as pool:
        ids = list(pool.map(lambda b: requests.post(f"{url}/v1/headlines", json=b, timeout=30)
                            .json()["headlines"][0]["id"], bodies))
    assert len(set(ids[:20])) == 1 and len(set(ids[20:])) == 1 and ids[0] != ids[20]


def test_body_over_the_limit_is_413_json(live):
    url, client = live
    r = requests.post(f"{url}/v1/headlines", data=b'{"text": "' + b"x" * 2_100_000 + b'"}',
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_entity_too_large"
    assert client.xlen(Keys().ingest) == 0
