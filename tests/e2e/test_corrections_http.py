"""Editor corrections through HTTP with a real worker on real Redis: the seed feed's Bourse pair merged, its rewrite
joining the merged story, a member split out whose rewrite does not go back; who did it, and the wrong requests."""
import pytest

from headline_dedup import apikeys
from headline_dedup.settings import Settings
from headline_dedup.service import create_app
from headline_dedup.storage.consistency import check
from headline_dedup.storage.keys import Keys
from headline_dedup.workers.clusterer import Clusterer
from tests.integration.helpers import running

BOURSE = "La Bourse de Paris salue la baisse des taux de la BCE"
EUROPE = "Les Bourses européennes terminent dans le vert après la BCE"


@pytest.fixture
def desk(redis_client, seed_headlines):
    """The API with an editor's key and a reader's, a worker, and the seed feed clustered."""
    keys = {"editor": apikeys.generate("desk-editor", ["edit", "read", "ingest"]),
            "reader": apikeys.generate("reader", ["read", "ingest"])}
    settings = Settings(worker_block_ms=50, auth_disabled=False, api_keys=",".join(e for _, e in keys.values()))
    http = create_app(settings, redis_client).test_client()
    auth = {name: {"Authorization": f"Bearer {key}"} for name, (key, _) in keys.items()}
    with running(Clusterer(redis_client, settings, name="w1")):
        body = {"headlines": [{"id": f"s{i}", "text": t} for i, t in enumerate(seed_headlines)]}
        r = http.post("/v1/headlines?wait=20", json=body, headers=auth["editor"])
        assert r.status_code == 202
        yield http, auth, {h["text"]: h for h in r.get_json()["headlines"]}, redis_client


def _post(http, auth, cid, text):
    r = http.post("/v1/headlines?wait=20", json={"id": cid, "text": text}, headers=auth)
    assert r.status_code == 202
    return r.get_json()["headlines"][0]


def test_the_bourse_story_merged_then_a_member_split_out(desk):
    http, auth, seeded, client = desk
    bourse, europe = seeded[BOURSE]["cluster_id"], seeded[EUROPE]["cluster_id"]
    assert bourse != europe

    r = http.post(f"/v1/clusters/{europe}/merge", json={"into": bourse}, headers=auth["editor"])
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["cluster"]["id"] == bourse and out["cluster"]["size"] == 2
    assert out["correction"]["by"] == "desk-editor" and out["correction"]["at"].endswith("Z")
    followed = http.get(f"/v1/clusters/{europe}", headers=auth["reader"]).get_json()
    assert followed["id"] == followed["merged_into"] == bourse and followed["merged"] == [europe]

    rewrite = _post(http, auth["editor"], "r1", "Les Bourses européennes finissent dans le vert après la baisse des "
                                                "taux de la BCE")
    assert rewrite["cluster_id"] == bourse

    europe_id = seeded[EUROPE]["id"]
    r = http.post(f"/v1/clusters/{bourse}/split", json={"headlines": [europe_id]}, headers=auth["editor"])
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    split_to = out["correction"]["new_cluster_id"]
    assert [m["id"] for m in out["cluster"]["members"]] == [europe_id] and out["left"]["size"] == 2
    again = _post(http, auth["editor"], "r2", "Les Bourses européennes terminent dans le vert grâce à la BCE")
    assert again["cluster_id"] == split_to != bourse

    listed = http.get("/v1/corrections", headers=auth["reader"]).get_json()["corrections"]
    assert [(c["type"], c["by"]) for c in listed] == [("cluster.merged", "desk-editor"),
                                                      ("cluster.split", "desk-editor")]
    assert check(client, Keys()).ok


def test_moves_and_the_wrong_requests(desk):
    http, auth, seeded, _ = desk
    bourse, europe = seeded[BOURSE]["cluster_id"], seeded[EUROPE]["cluster_id"]
    europe_id = seeded[EUROPE]["id"]
    ed = auth["editor"]
    r = http.post(f"/v1/headlines/{europe_id}/move", json={"cluster": bourse}, headers=ed)
    assert r.status_code == 200 and r.get_json()["cluster"]["size"] == 2 and r.get_json()["left"] is None
    assert http.get(f"/v1/clusters/{europe}", headers=ed).get_json()["id"] == bourse  # emptied: follows
    assert http.get(f"/v1/headlines/{europe_id}", headers=ed).get_json()["cluster_id"] == bourse
    r = http.post(f"/v1/headlines/{europe_id}/move", json={"cluster": None}, headers=ed)
    assert r.status_code == 200 and r.get_json()["cluster"]["size"] == 1 and r.get_json()["left"]["size"] == 1

    wrong = [
        (f"/v1/clusters/{bourse}/merge", {"into": bourse}, ed, 409, "same_cluster"),
        (f"/v1/clusters/{bourse}/merge", {"into": "nope"}, ed, 404, "cluster_not_found"),
        (f"/v1/clusters/{bourse}/merge", {}, ed, 422, "invalid_field"),
        (f"/v1/clusters/{bourse}/merge", {"into": "x", "extra": 1}, ed, 422, "invalid_field"),
        (f"/v1/clusters/{europe}/merge", {"into": bourse}, ed, 409, "cluster_merged"),
        (f"/v1/clusters/{bourse}/split", {"headlines": ["nope"]}, ed, 409, "not_a_member"),
        (f"/v1/clusters/{bourse}/split", {"headlines": []}, ed, 422, "invalid_field"),
        (f"/v1/clusters/{bourse}/split", {"headlines": [seeded[BOURSE]["id"]]}, ed, 409, "split_everything"),
        ("/v1/headlines/nope/move", {"cluster": None}, ed, 404, "headline_not_found"),
        (f"/v1/headlines/{europe_id}/move", {}, ed, 422, "invalid_field"),
        (f"/v1/headlines/{europe_id}/move", {"cluster": None}, ed, 409, "already_alone"),
        (f"/v1/clusters/{bourse}/merge", {"into": europe}, auth["reader"], 403, "forbidden"),
        (f"/v1/clusters/{bourse}/merge", {"into": europe}, {}, 401, "unauthenticated"),
    ]
    for url, body, headers, status, code in wrong:
        r = http.post(url, json=body, headers=headers)
        assert (r.status_code, r.get_json()["error"]["code"]) == (status, code), (url, body, r.get_json())
    r = http.post(f"/v1/clusters/{bourse}/merge", data="{", content_type="application/json", headers=ed)
    assert r.status_code == 400
    assert http.get("/v1/corrections?cursor=x", headers=ed).status_code == 400
    assert len(http.get("/v1/corrections", headers=ed).get_json()["corrections"]) == 2
