"""The service on a real Redis Cluster: namespaces spread over its masters, every script and transaction runs
there, a worker dies and nothing is lost or repeated, the API serves several namespaces."""
from redis.cluster import RedisCluster

from headline_dedup import apikeys
from headline_dedup.apikeys import KeyRing
from headline_dedup.settings import Settings
from headline_dedup.storage.client import service_client
from headline_dedup.storage.keys import Keys
from headline_dedup.service import create_app
from tests.integration.helpers import dev_rows, running_workers, submit, wait_until_decided
from tests.integration.test_workers import FAST, _assert_each_clustered_once, _kill_when, _worker_env, \
    _finish_with_one_worker


def test_the_service_picks_a_cluster_client_for_a_cluster_url(redis_cluster):
    assert isinstance(service_client(redis_cluster.url, Settings()), RedisCluster)
    assert not isinstance(service_client(redis_cluster.url, Settings(redis_cluster="no")), RedisCluster)


def test_three_namespaces_on_three_masters_cluster_the_same_feed_alike(redis_cluster, cluster_client):
    spaces = redis_cluster.spread(3)
    assert len({redis_cluster.master_of(Keys(namespace=ns).ingest).port for ns in spaces}) == 3
    rows, labels = dev_rows(600), []
    for ns in spaces:
        settings = Settings(namespace=ns, worker_batch=50, **FAST)
        ids = submit(cluster_client, settings, rows, batch=100)
        assert submit(cluster_client, settings, rows[:100], batch=100) == ids[:100]  # idempotent re-post
        with running_workers(cluster_client, settings, 2):
            hs = wait_until_decided(cluster_client, settings, ids)
        _assert_each_clustered_once(cluster_client, settings, ids)
        labels.append([h.get("cluster_id") for h in hs])
        events = cluster_client.xrange(Keys(namespace=ns).events)
        assert sum(f[b"type"] == b"cluster.created" for _, f in events) == len({c for c in labels[-1] if c})
    assert labels[0] == labels[1] == labels[2]  # same feed, same clusters, whichever master
    for ns in spaces:  # each namespace's keys all live on its own master
        node = redis_cluster.master_of(Keys(namespace=ns).meta)
        assert node.client().exists(Keys(namespace=ns).ingest, Keys(namespace=ns).clusters) == 2


def test_a_worker_sigkilled_on_the_cluster_loses_and_repeats_nothing(redis_cluster, cluster_client):
    settings, env = Settings(namespace="killed", worker_batch=100, **FAST), _worker_env(100, 2000)
    env["HEADLINE_DEDUP_NAMESPACE"] = "killed"
    ids, keys = submit(cluster_client, settings, dev_rows(1000)), Keys(namespace="killed")

    def total():
        return int(cluster_client.hget(keys.meta, "total") or 0)

    for _ in range(2):
        before = total()
        _kill_when(cluster_client, redis_cluster.url, env, lambda: total() > before)
    _finish_with_one_worker(cluster_client, settings, redis_cluster.url, env, ids)


def test_the_api_serves_several_namespaces_on_the_cluster(redis_cluster, cluster_client):
    a, b = redis_cluster.spread(2)
    desk_key, desk_entry = apikeys.generate("desk", ["ingest", "read"], [a])
    admin_key, admin_entry = apikeys.generate("admin", ["admin"])
    settings = Settings(namespace=a, namespaces=b, rate_limit="1000/second", auth_disabled=False, **FAST)
    app = create_app(settings, service_client(redis_cluster.url, settings),
                     KeyRing(apikeys.parse(f"{desk_entry},{admin_entry}")))
    http = app.test_client()

    def post(key, ns, texts, **headers):
        return http.post("/v1/headlines", json={"headlines": [{"id": str(i), "text": t} for i, t in enumerate(texts)]},
                         headers={"Authorization": f"Bearer {key}", **({"X-Namespace": ns} if ns else {}), **headers})

    texts = ["Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne et la France",
             "Zone euro: la croissance a calé en fin d'année, plombée par l'Allemagne et la France"]
    first = post(desk_key, None, texts)  # no header: the default namespace, a
    assert first.status_code == 202, first.get_json()
    again = post(desk_key, a, texts).get_json()["headlines"]  # idempotent
    assert [h["id"] for h in again] == [h["id"] for h in first.get_json()["headlines"]]
    assert all(h["duplicate_request"] for h in again)
    assert post(desk_key, b, texts).status_code == 403  # the desk's key may not use b
    assert post(desk_key, "nowhere", texts).status_code == 403  # nor one that does not exist
    assert post(admin_key, "nowhere", texts).get_json()["error"]["code"] == "unknown_namespace"
    assert post("hdk_wrong", "nowhere", texts).status_code == 401  # without a key, no word of what exists
    assert post(admin_key, b, texts[:1]).status_code == 202  # admin: every namespace
    with running_workers(cluster_client, Settings(namespace=a, **FAST), 1), \
            running_workers(cluster_client, Settings(namespace=b, **FAST), 1):
        ids = [h["id"] for h in first.get_json()["headlines"]]
        wait_until_decided(cluster_client, Settings(namespace=a), ids)
        wait_until_decided(cluster_client, Settings(namespace=b), [ids[0]])
    got = http.get(f"/v1/headlines/{ids[1]}", headers={"Authorization": f"Bearer {desk_key}"}).get_json()
    assert got["cluster_id"] == http.get(f"/v1/headlines/{ids[0]}",
                                         headers={"Authorization": f"Bearer {desk_key}"}).get_json()["cluster_id"]
    in_b = http.get("/v1/clusters", headers={"Authorization": f"Bearer {admin_key}", "X-Namespace": b}).get_json()
    assert [c["size"] for c in in_b["clusters"]] == [1]  # b holds only its own headline


def test_the_rate_limiter_counts_on_the_cluster(redis_cluster, cluster_client):
    key, entry = apikeys.generate("desk", ["read"])
    settings = Settings(namespace="limited", rate_limit="3/minute", auth_disabled=False)
    app = create_app(settings, service_client(redis_cluster.url, settings), KeyRing(apikeys.parse(entry)))
    http = app.test_client()
    codes = [http.get("/v1/clusters", headers={"Authorization": f"Bearer {key}"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert cluster_client.keys("LIMITS:*")  # counted in the cluster
