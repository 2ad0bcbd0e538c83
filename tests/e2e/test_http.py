"""Through HTTP (the Flask app) with a real worker on real Redis."""
import re

import pytest

from headline_dedup.settings import Settings
from headline_dedup.service import create_app
from tests.integration.helpers import running
from headline_dedup.workers.clusterer import Clusterer


@pytest.fixture
def stack(redis_client):
    settings = Settings(worker_block_ms=50)
    app = create_app(settings, redis_client)
    with running(Clusterer(redis_client, settings, name="w1")):
        yield app.test_client(), redis_client


def test_batch_post_wait_and_read_back(stack, seed_headlines):
    http, _ = stack
    body = {"headlines": [{"id": f"s{i}", "text": t} for i, t in enumerate(seed_headlines)]}
    r = http.post("/v1/headlines?wait=20", json=body)
    assert r.status_code == 202
    hs = r.get_json()["headlines"]
    assert [h["status"] for h in hs] == ["clustered"] * len(seed_headlines)
    by_text = {t: h["cluster_id"] for t, h in zip(seed_headlines, hs)}
    fed = [c for t, c in by_text.items() if "statu quo" in t.lower()]
    assert len(fed) == 3 and len(set(fed)) == 1
    one = http.get(f"/v1/headlines/{hs[0]['id']}").get_json()
    assert one["id"] == hs[0]["id"] and one["status"] == "clustered" and one["cluster_id"]
    cl = http.get(f"/v1/clusters/{fed[0]}").get_json()
    assert cl["size"] == 3 and len(cl["members"]) == 3
    listed = http.get("/v1/clusters?min_size=2").get_json()["clusters"]
    assert fed[0] in {c["id"] for c in listed}


def test_same_client_id_is_stored_once(stack):
    http, client = stack
    ids = {http.post("/v1/headlines", json={"id": "x1", "text": "Lyon: grève des bus lundi"}).get_json()
           ["headlines"][0]["id"] for _ in range(5)}
    assert len(ids) == 1
    assert int(client.get("{hd:default}:seq")) == 1


def test_a_client_id_reused_for_another_text_is_409_and_stores_nothing(stack):
    http, client = stack
    http.post("/v1/headlines", json={"id": "x1", "text": "Lyon: grève des bus lundi"})
    r = http.post("/v1/headlines", json={"headlines": [{"id": "x2", "text": "Lille: grève des trams mardi"},
                                                       {"id": "x1", "text": "Lyon: grève des métros mardi"}]})
    assert r.status_code == 409
    assert r.get_json()["error"] == {"code": "id_conflict", "field": "headlines.1.id",
                                     "message": "headline id 'x1' was already posted with another text"}
    assert int(client.get("{hd:default}:seq")) == 1
    r = http.post("/v1/headlines", json={"id": "x1", "text": "Lyon: grève des métros mardi"})
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "id"  # a single object's own field


@pytest.mark.parametrize("body,ctype,status,code", [
    (b"{not json", "application/json", 400, "malformed_json"),
    (b'{"text": ""}', "application/json", 422, "invalid_field"),
    (b'{"text": "ok ok", "colour": 1}', "application/json", 422, "invalid_field"),
    (b'{"text": "ok ok", "api_key": "agency-b"}', "application/json", 422, "invalid_field"),  # set by the server
    (b'{"text": 12}', "application/json", 422, "invalid_field"),
    (b'{"text": "' + b"x" * 1001 + b'"}', "application/json", 422, "invalid_field"),
    (b"text", "text/plain", 415, "unsupported_media_type"),
])
def test_bad_input_is_a_json_4xx_and_stores_nothing(stack, body, ctype, status, code):
    http, client = stack
    r = http.post("/v1/headlines", data=body, content_type=ctype)
    assert r.status_code == status and r.get_json()["error"]["code"] == code
    assert client.get("{hd:default}:seq") is None


def test_batch_with_one_bad_item_is_rejected_whole(stack):
    http, client = stack
    r = http.post("/v1/headlines", json={"headlines": [{"text": "Bon titre ici"}, {"text": "  "}]})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "headlines.1.text"
    assert client.get("{hd:default}:seq") is None


def test_service_clusters_equal_the_offline_cluster_command(stack, seed_headlines):
    from headline_dedup.encoders import encoders_for
    from headline_dedup.feeds import FeedRow
    from headline_dedup.offline import cluster_rows, memory_engine
    from headline_dedup.settings import Settings

    http, _ = stack
    for i in range(0, len(seed_headlines), 20):  # several posts, as `headline-dedup ingest` does
        body = {"headlines": [{"id": str(j), "text": t} for j, t in enumerate(seed_headlines[i:i + 20], i)]}
        assert http.post("/v1/headlines?wait=20", json=body).status_code == 202
    page = http.get("/v1/clusters?members=true&limit=500").get_json()
    served = sorted(sorted(m["text"] for m in c["members"]) for c in page["clusters"])
    rows = [FeedRow(str(i), t) for i, t in enumerate(seed_headlines)]
    groups: dict[str, list[str]] = {}
    settings = Settings()  # the defaults, as the service's
    candidates, judge = encoders_for(settings.vectors, settings.judge)
    for row, d in cluster_rows(rows, memory_engine(candidates=candidates, judge=judge)):
        groups.setdefault(d.cluster_id, []).append(row.text)
    assert served == sorted(sorted(g) for g in groups.values())


def test_metrics_report_requests_and_pipeline_state(stack):
    http, _ = stack
    http.post("/v1/headlines?wait=5", json={"text": "Zone euro: la croissance cale"})
    text = http.get("/metrics").get_data(as_text=True)
    assert 'hd_http_requests_total{method="POST",route="/v1/headlines",status="202"}' in text
    for gauge in ("hd_ingest_backlog", "hd_ingest_pending", "hd_dead_letters", 'hd_clusters{namespace="default"} 1.0',
                  "hd_ingest_lag_seconds", "hd_webhooks_disabled"):
        assert gauge in text, gauge


def test_sources_are_a_list_in_every_cluster_response(stack):
    http, _ = stack
    body = {"headlines": [
        {"text": "Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne", "source": "afp"},
        {"text": "Zone euro: la croissance a calé en fin d'année, plombée par l'Allemagne", "source": "reuters"},
        {"text": "Le Sénat veut renforcer la protection des haies"}]}
    hs = http.post("/v1/headlines?wait=10", json=body).get_json()["headlines"]
    euro, haies = hs[0]["cluster_id"], hs[2]["cluster_id"]
    assert hs[1]["cluster_id"] == euro
    for members in ("false", "true"):
        page = {c["id"]: c for c in http.get(f"/v1/clusters?members={members}").get_json()["clusters"]}
        assert page[euro]["sources"] == ["afp", "reuters"] and page[haies]["sources"] == []
    assert http.get(f"/v1/clusters/{haies}").get_json()["sources"] == []
    assert [c["id"] for c in http.get("/v1/clusters?source=reuters").get_json()["clusters"]] == [euro]
    match = http.post("/v1/match", json={"text": "Zone euro: la croissance cale, plombée par l'Allemagne"})
    assert match.get_json()["cluster"]["sources"] == ["afp", "reuters"]


def test_events_name_the_client_id_of_their_headline(stack):
    import json

    from headline_dedup.storage.keys import Keys

    http, client = stack
    http.post("/v1/headlines?wait=10", json={"headlines": [
        {"id": "wire-1", "text": "Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne"},
        {"text": "Zone euro: la croissance a calé en fin d'année, plombée par l'Allemagne"}]})
    events = [(e[1][b"type"].decode(), json.loads(e[1][b"data"])) for e in client.xrange(Keys().events)]
    members = [d["member"] for kind, d in events if kind in ("cluster.created", "cluster.updated")]
    assert [(m["text"][:25], m["client_id"]) for m in members] == [("Zone euro: la croissance ", "wire-1"),
                                                                   ("Zone euro: la croissance ", None)]


def test_times_are_iso_8601_utc_in_responses_and_filters(stack):
    http, _ = stack
    r = http.post("/v1/headlines?wait=20", json={"text": "Zone euro: la croissance cale en fin d'année"})
    h = r.get_json()["headlines"][0]
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    assert iso.match(h["received_at"]) and iso.match(h["event_at"])
    c = http.get(f"/v1/clusters/{h['cluster_id']}").get_json()
    assert iso.match(c["first_seen"]) and iso.match(c["last_seen"]) and c["first_seen"] <= c["last_seen"]
    assert http.get("/v1/clusters?updated_since=2000-01-01T00:00:00Z").get_json()["clusters"]
    assert http.get("/v1/clusters?updated_since=2999-01-01T00:00:00Z").get_json()["clusters"] == []
    r = http.get("/v1/clusters?updated_since=hier")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "updated_since"
