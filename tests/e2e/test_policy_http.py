"""Thresholds changed at run time through the API: the worker's next batch decides with them, the change is
logged with who made it, and only an admin may make it."""
import pytest

from headline_dedup import apikeys
from headline_dedup.service import create_app
from headline_dedup.settings import Settings
from headline_dedup.workers.clusterer import Clusterer
from tests.integration.helpers import running

PAIR = ["Zone euro: la croissance cale en fin d'année",
        "Zone euro: la croissance cale en fin d'année, l'Allemagne inquiète"]


@pytest.fixture
def api(redis_client):
    keys = {"admin": apikeys.generate("chief", ["admin"]), "reader": apikeys.generate("reader", ["read", "ingest"])}
    settings = Settings(worker_block_ms=50, auth_disabled=False, api_keys=",".join(e for _, e in keys.values()))
    http = create_app(settings, redis_client).test_client()
    with running(Clusterer(redis_client, settings, name="w1")):
        yield http, {name: {"Authorization": f"Bearer {key}"} for name, (key, _) in keys.items()}


def _post(http, auth, texts, prefix):
    r = http.post("/v1/headlines?wait=20", headers=auth,
                  json={"headlines": [{"id": f"{prefix}{i}", "text": t} for i, t in enumerate(texts)]})
    return [h["cluster_id"] for h in r.get_json()["headlines"]]


def test_stricter_thresholds_apply_from_the_next_batch_and_are_logged(api):
    http, auth = api
    first, second = _post(http, auth["admin"], PAIR, "a")
    assert first == second  # the configured policy joins this rewrite (score 0.83: not an exact twin)
    before = http.get("/v1/settings/policy", headers=auth["reader"]).get_json()
    assert before["policy"] == before["configured"] and before["policy"]["live_threshold"] == 0.45

    strict = {"threshold": 1.0, "live_threshold": 1.0, "core_threshold": 1.0}
    r = http.put("/v1/settings/policy", json=strict, headers=auth["admin"])
    assert r.status_code == 200 and r.get_json()["policy"]["live_threshold"] == 1.0
    assert r.get_json()["configured"]["live_threshold"] == 0.45
    near = {"text": "Zone euro: la croissance cale en fin d'année, Berlin inquiet"}  # not an exact twin
    assert http.post("/v1/match", json=near, headers=auth["reader"]).get_json()["would_join"] is None
    first, second = _post(http, auth["admin"], [p.replace("Zone euro", "Eurozone") for p in PAIR], "b")
    assert first != second  # the next batch decided with the stricter bars

    [change] = http.get("/v1/corrections", headers=auth["reader"]).get_json()["corrections"]
    assert change["type"] == "policy.changed" and change["by"] == "chief" and change["changed"] == strict

    r = http.put("/v1/settings/policy", json={"live_threshold": 0.45, "threshold": 0.6, "core_threshold": 0.3},
                 headers=auth["admin"])
    assert r.get_json()["policy"] == before["policy"]


def test_only_an_admin_changes_the_policy_and_bad_values_are_refused(api):
    http, auth = api
    for body, headers, status in [({"threshold": 0.7}, auth["reader"], 403), ({"threshold": 0.7}, {}, 401),
                                  ({}, auth["admin"], 400), ({"threshold": 2}, auth["admin"], 422),
                                  ({"live_threshold": "high"}, auth["admin"], 422), ({"bar": 0.5}, auth["admin"], 422)]:
        r = http.put("/v1/settings/policy", json=body, headers=headers)
        assert r.status_code == status, (body, r.get_json())
    assert http.get("/v1/corrections", headers=auth["reader"]).get_json()["corrections"] == []
