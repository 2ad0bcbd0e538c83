"""/metrics stays bounded whatever methods and paths unauthenticated clients make up, and reports the pipeline of
every namespace the API serves; /healthz answers for all of them."""
import random
import string

from prometheus_client.parser import text_string_to_metric_families

from headline_dedup.settings import Settings
from headline_dedup.service import create_app
from headline_dedup.storage.keys import Keys


def _request_label_sets(http) -> set:
    text = http.get("/metrics").get_data(as_text=True)
    return {tuple(sorted(s.labels.items())) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name in ("hd_http_requests_total", "hd_http_request_seconds_count")}


def test_made_up_methods_and_paths_do_not_grow_the_label_sets(redis_client):
    http = create_app(Settings(), redis_client).test_client()
    before = _request_label_sets(http)
    rng = random.Random(7)
    for _ in range(200):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        path = "/" + "".join(rng.choices(string.ascii_lowercase + "/", k=rng.randint(1, 30)))
        http.open(path, method=method)
    added = _request_label_sets(http) - before
    # at most: the /metrics scrape itself, and the made-up requests as method "other" on route "unmatched"
    # (404, 405) and on the few routes a random path can hit
    assert len(added) <= 10, sorted(added)[:10]
    methods = {dict(labels).get("method") for labels in _request_label_sets(http)} - {None}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "other"}


def _pipeline(http) -> dict:
    text = http.get("/metrics").get_data(as_text=True)
    return {(s.name, s.labels.get("namespace")): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name.startswith(("hd_ingest", "hd_clusters", "hd_dead", "hd_webhook"))}


def test_each_namespace_served_has_its_own_pipeline_series(redis_client):
    http = create_app(Settings(namespaces="sport"), redis_client).test_client()
    assert http.post("/v1/headlines", json={"text": "Ligue 1: Lyon bat Nantes"},
                     headers={"X-Namespace": "sport"}).status_code == 202
    redis_client.xadd(Keys(namespace="default").dead, {"id": "x"})  # a dead letter on the default desk
    got = _pipeline(http)
    assert got[("hd_ingest_backlog", "sport")] == 1 and got[("hd_ingest_backlog", "default")] == 0
    assert got[("hd_dead_letters", "default")] == 1 and got[("hd_dead_letters", "sport")] == 0
    assert {ns for _, ns in got} == {"default", "sport"}  # the served ones only, whatever a request names
    http.get("/v1/clusters", headers={"X-Namespace": "nosuch"})
    assert {ns for _, ns in _pipeline(http)} == {"default", "sport"}


def test_healthz_fails_when_any_namespaces_event_reader_stopped_whatever_the_header(redis_client):
    app = create_app(Settings(namespaces="sport"), redis_client)
    http = app.test_client()
    assert http.get("/healthz").status_code == 200
    app.extensions["headline_dedup"].by_name["sport"].hub.failed = True  # as its thread sets it when it dies
    for headers in ({}, {"X-Namespace": "sport"}, {"X-Namespace": "nosuch"}):
        r = http.get("/healthz", headers=headers)
        assert r.status_code == 503 and r.get_json()["status"] == "failing", headers
