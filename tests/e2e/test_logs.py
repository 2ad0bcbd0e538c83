"""Structured logs: JSON lines, and one request id from the API's request record to the worker's records."""
import io
import json
import logging

import pytest
import structlog

from headline_dedup import logs
from headline_dedup.settings import Settings
from headline_dedup.service import create_app
from tests.integration.helpers import running
from headline_dedup.workers.clusterer import Clusterer


@pytest.fixture
def log_lines():
    root = logging.getLogger()
    saved, config = (root.handlers[:], root.level), structlog.get_config()
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    structlog.configure(**config)
    root.handlers[:], level = saved
    root.setLevel(level)


def test_request_id_is_carried_from_api_to_worker(redis_client, log_lines):
    settings = Settings(worker_block_ms=50)
    http = create_app(settings, redis_client).test_client()
    body = {"headlines": [{"id": "a", "text": "Zone euro: la croissance cale en fin d'année"},
                          {"id": "b", "text": "Zone euro: la croissance a calé en fin d'année"},
                          {"id": "c", "text": "Lyon: grève des bus lundi"}]}
    with running(Clusterer(redis_client, settings, name="w1")):
        r = http.post("/v1/headlines?wait=20", json=body, headers={"X-Request-ID": "trace-42"})
    assert r.status_code == 202 and r.headers["X-Request-ID"] == "trace-42"
    assert {h["request_id"] for h in r.get_json()["headlines"]} == {"trace-42"}
    assert http.get("/v1/headlines/1").get_json()["request_id"] == "trace-42"

    records = log_lines()
    api = [x for x in records if x["event"] == "request" and x.get("request_id") == "trace-42"]
    assert len(api) == 1 and api[0]["status"] == 202 and api[0]["path"] == "/v1/headlines"
    assert {"timestamp", "level", "logger"} <= set(api[0])
    worker = [x for x in records if x["event"] == "clustered" and x.get("request_id") == "trace-42"]
    assert sum(x.get("created", 0) for x in worker) == 2 and sum(x.get("joined", 0) for x in worker) == 1


def test_unusable_request_ids_are_replaced_and_errors_logged_with_theirs(redis_client, log_lines):
    http = create_app(Settings(), redis_client).test_client()
    r = http.post("/v1/headlines", data=b"{oops", content_type="application/json",
                  headers={"X-Request-ID": "spaces and\tcontrol"})
    rid = r.headers["X-Request-ID"]
    assert r.status_code == 400 and len(rid) == 32 and rid != "spaces and\tcontrol"
    [record] = [x for x in log_lines() if x["event"] == "request"]
    assert record["request_id"] == rid and record["status"] == 400
    assert http.get("/v1/nowhere").headers["X-Request-ID"]


def test_a_refused_request_is_logged_with_the_key_that_made_it(redis_client, log_lines):
    from headline_dedup import apikeys

    key, entry = apikeys.generate("desk-ro", ["read"])
    http = create_app(Settings(auth_disabled=False, api_keys=entry), redis_client).test_client()
    auth = {"Authorization": f"Bearer {key}"}
    assert http.get("/v1/clusters", headers=auth).status_code == 200
    assert http.post("/v1/headlines", json={"text": "Lyon: grève des bus lundi"}, headers=auth).status_code == 403
    assert http.get("/v1/clusters", headers={"Authorization": "Bearer hdk_nosuchkey"}).status_code == 401
    records = [x for x in log_lines() if x["event"] == "request"]
    assert [(x["status"], x["api_key"]) for x in records] == [(200, "desk-ro"), (403, "desk-ro"), (401, None)]
