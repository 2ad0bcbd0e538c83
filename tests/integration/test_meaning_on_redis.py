"""Candidates by meaning and the semantic tier on the Redis adapters: the `near` stream mirrored by each worker,
the judge's vectors stored once, and the same clusters as the in-memory engine."""
import pytest

from bench.data import dev
from headline_dedup.encoders import E5Encoder
from headline_dedup.errors import IndexMismatch
from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline
from headline_dedup.settings import SEMANTIC_WORKER_BATCH, Settings
from headline_dedup.storage.assembly import record_vectors, redis_engine
from headline_dedup.storage.consistency import check
from headline_dedup.storage.keys import Keys
from headline_dedup.wordvectors import WordVectorEncoder


def _headlines(n):
    return [Headline(r.id, r.text, timestamp=r.timestamp) for r in dev()[:n]]


def test_two_workers_mirrors_give_the_clusters_of_one_in_memory_engine(redis_client):
    hs = _headlines(700)
    expected = [d.cluster_id for d in memory_engine(candidates=WordVectorEncoder()).process(hs)]
    settings = Settings(vectors="words", judge="none")
    workers = [redis_engine(redis_client, Keys(), settings) for _ in range(2)]
    got = []
    for n, i in enumerate(range(0, len(hs), 50)):  # the workers take turns, as under the clustering lock
        got += [d.cluster_id for d in workers[n % 2].process(hs[i:i + 50])]
    assert got == expected
    assert sum(d.reason != "new" for d in memory_engine().process(hs)) < sum(a != b.id for a, b in zip(got, hs))


class _CountingReads:
    """The real client, counting the near stream entries read through it."""

    def __init__(self, client):
        self.client, self.read = client, 0

    def xrange(self, *args, **kwargs):
        page = self.client.xrange(*args, **kwargs)
        self.read += len(page)
        return page


def test_a_mirror_reads_back_what_others_appended_not_its_own(redis_client):
    hs = _headlines(200)
    settings = Settings(vectors="words", judge="none")
    a, b = (redis_engine(redis_client, Keys(), settings) for _ in range(2))
    spy = a.dense.index.client = _CountingReads(redis_client)
    a.process(hs[:50])
    own = redis_client.xlen(Keys().near)
    b.process(hs[50:100])
    others = redis_client.xlen(Keys().near) - own
    a.process(hs[100:150])
    assert spy.read == others  # b's batch, read before a's second one; a's first batch was not read back
    assert len(a.dense.index.mirror) == redis_client.xlen(Keys().near)  # each headline once
    assert a.dense.index.time_of(hs[60].id) == hs[60].timestamp > 0  # b's, with its time (the judge's horizon)


def test_the_near_stream_holds_each_headline_and_mirrors_hold_it_once(redis_client):
    engine = redis_engine(redis_client, Keys(), Settings(vectors="words", judge="none"))
    hs = _headlines(40)
    engine.process(hs)
    entries = engine._entries(hs, engine.signer.sign(engine.prepare(h).tokens for h in hs))
    before, indexed = redis_client.xlen(Keys().near), int(redis_client.hget(Keys().meta, "indexed"))
    assert before == len(entries) > indexed > 30  # every comparable headline, twins of earlier ones included
    engine.index.insert_and_query(entries)  # the batch retried (a worker died before its commit)
    assert redis_client.xlen(Keys().near) == before + (before - indexed)  # only the twins are appended again
    fresh = redis_engine(redis_client, Keys(), Settings(vectors="words", judge="none"))
    assert fresh.dense.index.refresh() == before == len(fresh.dense.index.mirror)  # each id once


def test_a_namespace_keeps_one_encoders_vectors(redis_client):
    record_vectors(redis_client, Keys(), "words:a")
    record_vectors(redis_client, Keys(), "words:a")
    with pytest.raises(IndexMismatch):
        record_vectors(redis_client, Keys(), "words:b")
    with pytest.raises(IndexMismatch):
        redis_engine(redis_client, Keys(), Settings(vectors="words"))
    redis_engine(redis_client, Keys(namespace="other"), Settings(vectors="words"))


@pytest.fixture(scope="module")
def e5():
    return E5Encoder()


def test_the_e5_tier_on_redis_decides_as_in_memory_and_embeds_each_headline_once(redis_client, e5):
    hs = _headlines(1200)  # the first semantic join (in time order) is the 1,083rd headline
    expected = memory_engine(candidates=WordVectorEncoder(), judge=e5).process(hs)
    for h in hs:  # the records ingest writes: the judge reads an earlier headline's text from it
        redis_client.hset(Keys().headline(h.id), "text", h.text)
    engine = redis_engine(redis_client, Keys(), Settings(vectors="words", judge="e5"))
    got = []
    for i in range(0, len(hs), 100):
        got += engine.process(hs[i:i + 100])
    assert [d.cluster_id for d in got] == [d.cluster_id for d in expected]
    semantic = [d.headline_id for d in got if d.reason == "semantic"]
    assert semantic
    # Their words are held apart from the profiles (`lent`), and the whole state checks out against the records.
    assert all(redis_client.hget(Keys().headline(h), "lent") == b"1" for h in semantic)
    report = check(redis_client, Keys())
    assert report.ok and report.unverifiable == 0, report.problems
    embedded = engine.judge.source.embedded
    assert 0 < embedded < len(hs)  # only open decisions' headlines and candidates
    again = redis_engine(redis_client, Keys(), Settings(vectors="words", judge="e5"))
    again.process(hs, dry_run=True)  # a restarted worker deciding the same headlines: nothing to embed again
    assert again.judge.source.embedded == 0
    clusters = [c.decode() for c in redis_client.zrange(Keys().clusters, 0, -1)]
    with redis_client.pipeline() as pipe:  # expiring every cluster takes back every count, the lent ones too
        engine.store.stage_expiry(pipe, clusters)
        pipe.execute()
    assert redis_client.hlen(Keys().df) == 0 and int(redis_client.hget(Keys().meta, "total")) == 0


def test_workers_embed_ahead_of_the_lock_each_its_own_share(redis_client, e5):
    from headline_dedup.workers.clusterer import Clusterer
    from tests.integration.helpers import dev_rows, statuses, submit

    settings = Settings(judge="e5", worker_block_ms=50)
    assert settings.worker_batch == SEMANTIC_WORKER_BATCH  # the tier's default: pages two workers share
    ids = submit(redis_client, settings, dev_rows(300), batch=300)
    first, second = Clusterer(redis_client, settings, name="w1"), Clusterer(redis_client, settings, name="w2")
    assert first.ahead.run(after="0-0") == 250 and second.ahead.run(after="0-0") == 50  # each its own page
    assert first.ahead.run(after="0-0") == 0  # all claimed
    ahead = first.engine.judge.source.embedded
    assert ahead > 0 and redis_client.keys(Keys().semantic_vector(first.engine.judge.source.tag, "*"))
    while any(h["status"] == "queued" for h in statuses(redis_client, settings, ids)):
        first.step()
    assert first.engine.judge.source.embedded < 2 * ahead  # the decisions mostly found their vectors stored


def test_a_second_worker_embeds_the_page_after_the_first_and_no_batch_is_decided_mid_embedding(redis_client, e5):
    from headline_dedup.workers.clusterer import Clusterer
    from headline_dedup.workers.embedahead import DONE
    from tests.integration.helpers import dev_rows, statuses, submit

    settings = Settings(judge="e5", worker_batch=100, worker_block_ms=50)
    ids = submit(redis_client, settings, dev_rows(300), batch=300)
    first, second = Clusterer(redis_client, settings, name="w1"), Clusterer(redis_client, settings, name="w2")
    assert first.ahead.run(after="0-0") == 100 and second.ahead.run(after="0-0") == 100
    entries = [mid.decode() for mid, _ in redis_client.xrange(Keys().ingest)]
    claims = redis_client.mget([Keys().embed_claim(m) for m in entries])
    assert claims[:200] == [DONE.encode()] * 200 and claims[200:] == [None] * 100  # two pages, each embedded once

    redis_client.set(Keys().embed_claim(entries[0]), "w3")  # a third worker is still embedding the next batch
    second.step()  # embeds the third page ahead, and leaves the next batch to wait for its vectors
    assert all(h["status"] == "queued" for h in statuses(redis_client, settings, ids))
    assert redis_client.get(Keys().embed_claim(entries[-1])) == DONE.encode()
    redis_client.set(Keys().embed_claim(entries[0]), DONE)
    second.step()
    assert sum(h["status"] == "clustered" for h in statuses(redis_client, settings, ids)) == 100
