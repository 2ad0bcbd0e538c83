"""The engine on the Redis adapters gives the same clusters as on the in-memory ones."""
import pytest

from headline_dedup.engine import Engine, EngineConfig
from headline_dedup.errors import IndexMismatch
from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline
from headline_dedup.signatures import SignatureParams, Signer
from headline_dedup.storage.index import RedisIndex
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import RedisStore


def redis_engine(client, keys=Keys(), config=EngineConfig(), record_ttl=0):
    return Engine(RedisIndex(client, keys, Signer(config.signature), 72 * 3600),
                  RedisStore(client, keys, record_ttl=record_ttl), config)


def test_same_clusters_as_in_memory(redis_client, seed_headlines):
    hs = [Headline(str(i), t, timestamp=1_700_000_000 + i) for i, t in enumerate(seed_headlines)]
    expected = [d.cluster_id for d in memory_engine().process(hs)]
    engine = redis_engine(redis_client)
    got = []
    for i in range(0, len(hs), 7):  # batches of another size: same result
        got += [d.cluster_id for d in engine.process(hs[i:i + 7])]
    assert got == expected
    assert len(set(got)) < len(got)  # something did cluster


def test_index_refuses_other_parameters(redis_client):
    redis_engine(redis_client)
    other = EngineConfig(signature=SignatureParams(num_perm=64))
    with pytest.raises(IndexMismatch):
        redis_engine(redis_client, config=other)
    redis_engine(redis_client, keys=Keys(namespace="other"), config=other)  # another namespace is fine


def test_index_window_forgets_old_headlines(redis_client):
    engine = redis_engine(redis_client)
    a = Headline("1", "Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne", timestamp=1_000_000)
    b = Headline("2", "Zone euro: la croissance a calé en fin d'année, plombée par l'Allemagne", timestamp=1_000_000 + 3600)
    c = Headline("3", "Zone euro: la croissance a calé en fin d'année, plombée par la France",
                 timestamp=1_000_000 + 10 * 86400)
    d1, d2, d3 = engine.process([a]), engine.process([b]), engine.process([c])
    assert d2[0].cluster_id == d1[0].cluster_id
    assert d3[0].cluster_id == "3"  # ten days later: out of the 72 h window, a new story


def test_representative_kicker_survives_a_round_trip(redis_client):
    """The kicker check against a cluster's representative works when the cluster comes back from Redis."""
    engine = redis_engine(redis_client)
    tours = [Headline("1", "Météo Tours: prévisions du vendredi 10 janvier, pluie et vent fort", timestamp=1e6),
             Headline("2", "Météo Tours : prévisions du vendredi 10 janvier, pluie et vent", timestamp=1e6 + 1)]
    first = engine.process(tours)
    assert first[0].cluster_id == first[1].cluster_id
    assert redis_client.hget(Keys().cluster(first[0].cluster_id), "rep_kicker") in (b"2", "2")
    colmar = engine.process([Headline("3", "Météo Colmar: prévisions du vendredi 10 janvier, pluie et vent fort",
                                      timestamp=1e6 + 2)])
    assert colmar[0].cluster_id != first[0].cluster_id and colmar[0].match.conflicts == ("kicker",)


def test_expiry_removes_a_clusters_exact_keys_and_a_dangling_key_is_taken_over(redis_client):
    keys, store = Keys(), RedisStore(redis_client, Keys())
    engine = redis_engine(redis_client)
    text = "Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne"
    first = engine.process([Headline("1", text, timestamp=1e6), Headline("2", text, timestamp=1e6 + 1)])
    assert first[1].reason == "exact" and redis_client.hlen(keys.exact) == 1
    pipe = redis_client.pipeline(transaction=True)
    store.stage_expiry(pipe, [first[0].cluster_id])
    pipe.execute()
    assert redis_client.hlen(keys.exact) == 0 and redis_client.zcard(keys.clusters) == 0

    # A key written before clusters listed theirs, left pointing at a cluster that is gone: the next twin
    # opens a cluster of its own and takes the key over, so the exact path works again.
    again = engine.process([Headline("3", text, timestamp=1e6 + 2)])[0]
    redis_client.hset(keys.exact, redis_client.hkeys(keys.exact)[0], "gone")
    redis_client.hdel(keys.cluster(again.cluster_id), "exact")
    later = engine.process([Headline("4", text + " !", timestamp=1e6 + 3),
                            Headline("5", text + " ?", timestamp=1e6 + 4)])
    assert later[0].reason in ("new", "similar") and later[1].reason == "exact"
    assert redis_client.hvals(keys.exact) in ([later[0].cluster_id.encode()], [later[0].cluster_id])


def test_a_clusters_representative_record_lives_as_long_as_its_newest_member(redis_client):
    keys, engine = Keys(), redis_engine(redis_client, record_ttl=7000)
    founder = Headline("1", "Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne", timestamp=1e6)
    later = Headline("2", "Zone euro: la croissance a calé en fin d'année, plombée par l'Allemagne",
                     timestamp=1e6 + 1)
    for h, ttl in ((founder, 100), (later, 5000)):  # as ingest writes them, with their retention
        redis_client.hset(keys.headline(h.id), mapping={"status": "queued", "text": h.text})
        redis_client.expire(keys.headline(h.id), ttl)
    # "3" has no record: it expired while the headline was queued.
    ds = engine.process([founder]) + engine.process([later, Headline("3", "Trump annonce l'envoi de migrants "
                                                                          "sans papiers à Guantanamo", timestamp=1e6)])
    assert ds[1].cluster_id == ds[0].cluster_id
    assert redis_client.hget(keys.cluster(ds[0].cluster_id), "rep_id") in (b"1", "1")
    assert redis_client.ttl(keys.headline("1")) > 4000
    assert 0 < redis_client.ttl(keys.headline("3")) <= 7000  # re-created by the commit, with the retention


def test_whether_a_story_is_live_survives_a_round_trip(redis_client):
    """A cluster's newest member's time is stored with it; a cluster stored before that field existed counts from
    its last update."""
    strike = "Grève des pilotes d'Air France: vols annulés"
    later = "La grève des pilotes d'Air France perturbe le trafic à Roissy et Orly"  # a middling match
    hour, t0 = 3600.0, 1_700_000_000.0

    def story(namespace, gap, before_second=lambda keys: None):
        keys = Keys(namespace=namespace)
        engine = redis_engine(redis_client, keys)
        engine.process([Headline("1", strike, timestamp=t0)])
        assert float(redis_client.hget(keys.cluster("1"), "latest")) == t0
        before_second(keys)
        return keys, engine.process([Headline("2", later, timestamp=t0 + gap * hour)])[0]

    keys, soon = story("soon", 1)
    assert soon.reason == "live" and soon.cluster_id == "1"
    assert float(redis_client.hget(keys.cluster("1"), "latest")) == t0 + hour
    _, late = story("late", 20)
    assert late.reason == "new" and late.match.score == soon.match.score

    def as_an_older_version_wrote_it(keys):
        redis_client.hdel(keys.cluster("1"), "latest")
        redis_client.hset(keys.cluster("1"), "last_seen", t0 + 19 * hour)

    _, legacy = story("legacy", 20, as_an_older_version_wrote_it)
    assert legacy.reason == "live" and legacy.cluster_id == "1"


def test_a_shared_lead_joins_through_the_redis_state(redis_client):
    lead = "Le gouvernement chinois a décidé d'interdire les déplacements à l'étranger des développeurs de DeepSeek."
    first = redis_engine(redis_client).process([Headline("1", "La Chine interdit aux développeurs de voyager",
                                                         timestamp=1e6, lead=lead)])[0]
    later = redis_engine(redis_client).process([Headline("2", "Pékin garde ses ingénieurs en IA à la maison",
                                                         timestamp=1e6 + 60, lead=lead)])[0]
    assert later.cluster_id == first.cluster_id and later.reason == "lead"
