"""The Python client against a live server (threaded HTTP server, real worker, real Redis): posts and their retries,
reads, corrections, events that resume after a cut, and webhook verification."""
import json
import threading
import time

import pytest

from headline_dedup import apikeys
from headline_dedup.client import ApiError, Client, InvalidSignature, ServiceUnreachable, verify_webhook
from headline_dedup.service import create_app
from headline_dedup.settings import Settings
from headline_dedup.webhook_signature import sign
from headline_dedup.workers.clusterer import Clusterer
from tests.e2e.conftest import free_port, threaded_server
from tests.integration.helpers import running

EURO = ["Zone euro: la croissance cale en fin d'année", "Zone euro: la croissance a calé en fin d'année"]


@pytest.fixture
def live(redis_client):
    key, entry = apikeys.generate("desk", ["ingest", "read", "edit"])
    settings = Settings(worker_block_ms=50, auth_disabled=False, api_keys=entry, max_backlog=3)
    worker = Clusterer(redis_client, settings, name="w1")
    with threaded_server(create_app(settings, redis_client)) as url:
        yield url, key, worker


def test_post_read_correct_and_follow(live):
    url, key, worker = live
    with running(worker), Client(url, key) as api:
        first, second = api.post([{"id": "a1", "text": EURO[0], "source": "AFP"}, {"id": "a2", "text": EURO[1]}],
                                 wait=10)
        assert first["cluster_id"] == second["cluster_id"] and first["status"] == "clustered"
        assert api.post({"id": "a1", "text": EURO[0], "source": "AFP"})[0]["duplicate_request"]  # a retry is safe
        assert api.headline_by_client_id("a2")["id"] == second["id"]
        story = api.cluster(first["cluster_id"])
        assert story["size"] == 2 and story["first_seen"].endswith("Z")
        assert [c["id"] for c in api.clusters(min_size=2, limit=1)] == [story["id"]]
        assert api.match(EURO[1])["would_join"] == story["id"]
        [alone] = api.post("Le Sénat veut renforcer la protection des haies", wait=10)
        merged = api.merge(alone["cluster_id"], story["id"])
        assert merged["cluster"]["size"] == 3 and api.cluster(alone["cluster_id"])["merged"] == [alone["cluster_id"]]
        with pytest.raises(ApiError) as refused:
            api.merge(story["id"], story["id"])
        assert (refused.value.status, refused.value.code) == (409, "same_cluster")
        with pytest.raises(ApiError) as missing:
            api.headline("nope")
        assert missing.value.status == 404


def test_the_client_names_its_namespace(live):
    url, key, _ = live
    with Client(url, key, namespace="default") as api:
        assert api.post("Le Sénat veut renforcer la protection des haies")[0]["status"] == "queued"
    with Client(url, key, namespace="sport") as api, pytest.raises(ApiError) as refused:
        api.headline("1")
    assert (refused.value.status, refused.value.code) == (404, "unknown_namespace")  # this API serves one


def test_a_full_backlog_is_retried_until_the_worker_drains_it(live):
    url, key, worker = live
    with Client(url, key, retries=8) as api:
        api.post([f"Titre {i} sur la grève des bus à Lyon" for i in range(3)])  # the backlog (3) is full
        with pytest.raises(ApiError) as full:
            Client(url, key, retries=0).post("Un titre de trop")
        assert full.value.status == 503
        threading.Timer(0.5, lambda: threading.Thread(target=worker.run, daemon=True).start()).start()
        try:
            [late] = api.post("Un titre de trop", wait=10)  # 503, Retry-After, then accepted once drained
            assert late["status"] == "clustered"
        finally:
            worker.stop()


def test_events_resume_after_the_last_one_read(live):
    url, key, worker = live
    with running(worker), Client(url, key) as api:
        api.post(EURO[0], wait=10)
        first = next(api.events(since="0-0"))
        api.post(EURO[1], wait=10)
        resumed = next(api.events(since=first.id))  # a new connection, as after a cut
        assert first.type == "cluster.created" and resumed.type == "cluster.updated"
        assert resumed.data["member"]["text"] == EURO[1] and resumed.id > first.id


def test_unreachable_and_webhook_verification():
    with pytest.raises(ServiceUnreachable):
        Client(f"http://127.0.0.1:{free_port()}", retries=1).headline("x")
    secret = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM="
    body = json.dumps({"type": "cluster.created", "data": {"cluster_id": "c1"}}).encode()
    now = int(time.time())
    headers = {"Webhook-Id": "1-0", "Webhook-Timestamp": str(now), "Webhook-Signature": sign(secret, "1-0", now, body)}
    assert verify_webhook(secret, headers, body).data == {"cluster_id": "c1"}
    assert verify_webhook(secret, headers, body.decode()).data == {"cluster_id": "c1"}  # a framework's text body
    for bad in ({**headers, "Webhook-Signature": sign(secret, "1-0", now, body + b" ")},
                {**headers, "Webhook-Timestamp": str(now - 3600),
                 "Webhook-Signature": sign(secret, "1-0", now - 3600, body)},
                {k: v for k, v in headers.items() if k != "Webhook-Id"}):
        with pytest.raises(InvalidSignature):
            verify_webhook(secret, bad, body)
