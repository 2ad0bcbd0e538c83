"""Webhooks delivered by a real dispatcher to a real local HTTP receiver."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.webhooks import WebhookStore
from headline_dedup.webhook_signature import sign
from headline_dedup.service import create_app
from tests.integration.helpers import dev_rows, running, running_workers, submit, wait_until_decided
from headline_dedup.workers.dispatcher import Dispatcher

SETTINGS = Settings(worker_block_ms=50, webhook_allow_private=True, webhook_backoff_seconds=0.05,
                    webhook_disable_after=5)


class Receiver:
    """An HTTP server recording deliveries; `plan` gives the status to answer, in order, then 200. It listens
    on `host`:`port` (0: any free port), over TLS with the server context `tls` if given."""

    def __init__(self, plan=(), host="127.0.0.1", port=0, tls=None):
        self.plan, self.calls, self.lock = list(plan), [], threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    status = receiver.plan.pop(0) if receiver.plan else 200
                    receiver.calls.append((dict(self.headers), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stack(redis_client):
    app = create_app(SETTINGS, redis_client)
    with running(Dispatcher(redis_client, SETTINGS, name="d1")):
        yield app.test_client(), redis_client


def _wait(cond, timeout=30):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_every_event_arrives_signed(stack):
    http, client = stack
    rx = Receiver()
    created = http.post("/v1/webhooks", json={"url": rx.url}).get_json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and "secret" not in http.get("/v1/webhooks").get_json()["webhooks"][0]
    ids = submit(client, SETTINGS, dev_rows(200))
    with running_workers(client, SETTINGS, 1):
        wait_until_decided(client, SETTINGS, ids)
    expected = [e[0].decode() for e in client.xrange(Keys().events)]
    _wait(lambda: len(rx.calls) >= len(expected))
    time.sleep(0.2)
    rx.close()
    assert sorted(h["webhook-id"] for h, _, _ in rx.calls) == sorted(expected)  # each exactly once
    for headers, body, _ in rx.calls:
        ts = int(headers["webhook-timestamp"])
        assert headers["webhook-signature"] == sign(secret, headers["webhook-id"], ts, body)
        assert json.loads(body)["type"].startswith(("cluster.", "headline."))
        assert headers["user-agent"].startswith("headline-dedup/")


def test_three_failures_then_success_delivers_exactly_once_more(stack):
    http, client = stack
    rx = Receiver(plan=[500, 503, 500])
    hook = http.post("/v1/webhooks", json={"url": rx.url, "types": ["cluster.created"]}).get_json()
    client.xadd(Keys().events, {"type": "cluster.created", "data": '{"cluster_id": "c1", "size": 1}'})
    _wait(lambda: len(rx.calls) >= 4)
    time.sleep(0.5)  # nothing more may come
    rx.close()
    assert [s for _, _, s in rx.calls] == [500, 503, 500, 200]
    assert len({h["webhook-id"] for h, _, _ in rx.calls}) == 1
    log = http.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["deliveries"]
    assert [d["attempt"] for d in log] == [4, 3, 2, 1] and log[0]["ok"]
    assert http.get(f"/v1/webhooks/{hook['id']}").get_json()["failures"] == 0


def test_410_disables_the_webhook(stack):
    http, client = stack
    rx = Receiver(plan=[410])
    hook = http.post("/v1/webhooks", json={"url": rx.url}).get_json()
    for _ in range(3):
        client.xadd(Keys().events, {"type": "cluster.created", "data": "{}"})
    _wait(lambda: not http.get(f"/v1/webhooks/{hook['id']}").get_json()["active"])
    time.sleep(0.3)
    rx.close()
    assert len(rx.calls) == 1
    assert "410" in http.get(f"/v1/webhooks/{hook['id']}").get_json()["disabled_reason"]


def test_private_addresses_are_refused_unless_allowed(redis_client):
    http = create_app(Settings(), redis_client).test_client()
    for url in ("http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://169.254.169.254/latest", "http://localhost/x"):
        r = http.post("/v1/webhooks", json={"url": url})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "forbidden_webhook_url", url
    r = http.post("/v1/webhooks", json={"url": "ftp://example.org/x"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "url"
    assert "http:// or https:// URL" in r.get_json()["error"]["message"]  # in words, not a regular expression
    assert http.get("/v1/webhooks").get_json()["webhooks"] == []


class Crash(BaseException):
    """The dispatcher's process dying mid-delivery."""


def test_a_retry_taken_by_a_dispatcher_that_dies_is_retaken_after_its_lease(redis_client):
    client, retries = redis_client, Keys().webhook_retries
    rx = Receiver(plan=[500])
    hook = WebhookStore(client, Keys()).create(rx.url, [])
    first = Dispatcher(client, SETTINGS, name="d1", retry_lease_seconds=0.5)
    client.xadd(Keys().events, {"type": "cluster.created", "data": "{}"})
    first.step()  # attempt 1 fails: attempt 2 is scheduled
    _wait(lambda: client.zrangebyscore(retries, "-inf", time.time()))

    def crash(*job):
        raise Crash

    first._attempt = crash
    taken_at = time.time()
    with pytest.raises(Crash):
        first.redeliver_due()
    [(_, due)] = client.zrange(retries, 0, -1, withscores=True)
    assert due > taken_at  # kept, leased: not due again until the lease ends
    second = Dispatcher(client, SETTINGS, name="d2", retry_lease_seconds=0.5)
    _wait(lambda: second.redeliver_due() or len(rx.calls) == 2)
    rx.close()
    assert [s for _, _, s in rx.calls] == [500, 200] and client.zcard(retries) == 0
    log = WebhookStore(client, Keys()).deliveries(hook["id"])
    assert [(d["attempt"], d["ok"]) for d in log] == [(2, True), (1, False)]


def test_a_webhook_may_subscribe_to_editors_corrections_alone(stack):
    http, client = stack
    rx = Receiver()
    r = http.post("/v1/webhooks", json={"url": rx.url, "types": ["cluster.merged", "headline.moved"]})
    assert r.status_code == 201, r.get_json()
    client.xadd(Keys().events, {"type": "cluster.created", "data": '{"cluster_id": "c1", "size": 1}'})
    client.xadd(Keys().events, {"type": "cluster.merged", "data": '{"cluster_id": "c1", "merged": "c2"}'})
    _wait(lambda: len(rx.calls) >= 1)
    time.sleep(0.5)  # nothing more may come
    rx.close()
    assert [json.loads(body)["type"] for _, body, _ in rx.calls] == ["cluster.merged"]
    assert http.post("/v1/webhooks", json={"url": rx.url, "types": ["cluster.renamed"]}).status_code == 422


def test_every_event_type_has_a_documented_payload_and_a_webhook_may_name_it():
    """The events stream's types (storage) and their payload models (the API) are two lists: they must agree."""
    from headline_dedup.service.schemas import EVENT_MODELS
    from headline_dedup.storage.events import EVENT_TYPES

    assert sorted(EVENT_MODELS) == sorted(EVENT_TYPES)
