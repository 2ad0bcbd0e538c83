"""The band index's packed table on a real Redis: it finds what an in-memory index finds while it grows field by
field, forgets what left the window (on write, and by sweeps), names fields alike in Python and in its script, and
adopts the earlier layout's buckets."""
import random
import struct

import pytest

from headline_dedup.memory import MemoryIndex
from headline_dedup.ports import IndexEntry
from headline_dedup.signatures import BAND_FANOUT, SignatureParams, Signer
from headline_dedup.storage.index import BUCKETS_PER_WINDOW, RedisIndex
from headline_dedup.storage.keys import Keys
from tests.unit.test_hot_paths import _query  # what an in-memory index finds for a batch, adding nothing

SIGNER = Signer(SignatureParams())
WINDOW = 3 * 3600.0
T0 = 1_700_000_000.0


def _entries(n, seed=0, start=1, t=T0):
    """Headlines over a 400-word vocabulary: many share a band, a few are re-sends."""
    rng = random.Random(seed)
    vocab = [f"mot{i}" for i in range(400)]
    texts = [tuple(rng.sample(vocab, rng.randint(3, 7))) for _ in range(n)]
    texts = [rng.choice(texts[:i]) if i and rng.random() < 0.05 else x for i, x in enumerate(texts)]
    return [IndexEntry(str(start + i), s, t) for i, s in enumerate(SIGNER.sign(texts))]


STATE = (b"#L", b"#p", b"#n", b"#s")  # the table's own fields (a field of entries has a 3-byte name)


def _table(client):
    return {k.decode(): int(v) for k, v in client.hgetall(Keys().bands).items() if k in STATE}


def _fields(client):
    return {k: v for k, v in client.hgetall(Keys().bands).items() if k not in STATE}


def test_the_table_grows_and_finds_what_an_in_memory_index_finds(redis_client):
    ours, ref = RedisIndex(redis_client, Keys(), SIGNER, WINDOW), MemoryIndex(SIGNER, WINDOW, 10**6)
    entries = _entries(1500)
    for i in range(0, len(entries), 100):
        chunk = entries[i:i + 100]
        assert [set(x) for x in ours.query(chunk)] == [set(x) for x in _query(ref, chunk)]
        assert [set(x) for x in ours.insert_and_query(chunk)] == [set(x) for x in ref.insert_and_query(chunk)]
    table = _table(redis_client)
    assert table["#L"] > 10 or table["#p"] > 0  # it split fields on the way
    assert table["#n"] == sum(map(len, _fields(redis_client).values())) // 12


def test_one_big_batch_splits_thousands_of_fields_in_one_call(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    entries = _entries(1500)
    index.insert_and_query(entries)
    table = _table(redis_client)
    assert (1 << table["#L"]) + table["#p"] > 3000  # from 1,024 fields, in chunks the script can unpack
    ref = MemoryIndex(SIGNER, WINDOW, 10**6)
    ref.insert_and_query(entries)
    assert [set(x) for x in index.query(entries)] == [set(x) for x in ref.query(entries)]


def test_fields_are_named_alike_by_the_caller_and_by_the_script(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    for i in range(0, 1200, 200):
        index.insert_and_query(_entries(200, seed=i, start=1 + i))
    probe = _entries(300, seed=0)
    named = index.query(probe)
    for geometry in ("", "10:0", "99:1"):  # none, stale, nonsense: the script names the fields itself
        index._geometry = geometry
        assert index.query(probe) == named
    assert any(named)


def test_a_retried_batch_adds_nothing(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    entries = _entries(200)
    first = index.insert_and_query(entries)
    before = redis_client.hgetall(Keys().bands)
    again = index.insert_and_query(entries)
    assert redis_client.hgetall(Keys().bands) == before
    assert all(set(f) <= set(a) for f, a in zip(first, again))  # and the batch's later headlines, now indexed
    assert sum(map(len, again)) > sum(map(len, first))


def test_entries_leave_the_window_and_a_sweep_drops_them(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    old = _entries(300)
    index.insert_and_query(old)
    n = _table(redis_client)["#n"]
    later = T0 + WINDOW + 2 * index.bucket_seconds  # past the window
    assert index.query([IndexEntry(e.headline_id + "0", e.signature, later) for e in old[:50]]) == [[]] * 50
    assert index.sweep(1.0, now=T0) == (0, 1024)  # nothing has expired yet
    dropped, visited = index.sweep(1.0, now=later)
    assert dropped == n and visited == 1024
    assert _table(redis_client)["#n"] == 0 and not _fields(redis_client)


def test_a_write_drops_its_fields_expired_entries(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    old = _entries(300)
    index.insert_and_query(old)
    later = T0 + WINDOW + 2 * index.bucket_seconds
    index.insert_and_query([IndexEntry(str(1000 + i), e.signature, later) for i, e in enumerate(old)])
    for value in _fields(redis_client).values():
        assert all(int.from_bytes(value[at + 4:at + 10], "little") >= 1000 for at in range(0, len(value), 12))


def test_the_earlier_layout_is_adopted(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    entry = _entries(1)[0]
    bucket = int(T0 // index.bucket_seconds)
    bands = SIGNER.band_keys(entry.signature)
    redis_client.hset(Keys().lsh(bucket), mapping={bands[0]: "5,7,", bands[1]: "7,"})
    redis_client.hset(Keys().lsh(bucket - BUCKETS_PER_WINDOW - 5), mapping={bands[2]: "9,"})  # out of the window
    assert index.adopt_wide_buckets(now=T0) == 3
    assert set(index.query([entry])[0]) == {"5", "7"}
    assert not redis_client.exists(Keys().lsh(bucket))
    assert index.adopt_wide_buckets(now=T0) == 0


def test_ids_are_decimal_but_a_query_may_be_for_a_headline_not_stored(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    entry = _entries(1)[0]
    with pytest.raises(ValueError, match="decimal"):
        index.insert_and_query([IndexEntry("h1", entry.signature, T0)])
    index.insert_and_query([entry])
    assert index.query([IndexEntry("match", entry.signature, T0)]) == [[entry.headline_id]]


def test_a_band_shared_by_very_many_headlines_keeps_its_latest(redis_client):
    class OneBand:  # every headline shares its first band, the others are its own
        params = SIGNER.params

        def band_keys(self, i):
            return [b"shared!!"] + [struct.pack("<Q", i * 64 + b) for b in range(1, SIGNER.params.bands[0])]

    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    index.signer = OneBand()
    for i in range(0, 700, 100):
        index.insert_and_query([IndexEntry(str(j), j, T0) for j in range(1 + i, 101 + i)])
    found = index.query([IndexEntry("999999", 999999, T0)])[0]
    assert set(found) == {str(j) for j in range(701 - BAND_FANOUT, 701)}  # a query reads the newest few
    stored = [v[at:at + 12] for v in _fields(redis_client).values() for at in range(0, len(v), 12)]
    assert sorted(int.from_bytes(e[4:10], "little") for e in stored if e[:4] == b"shar") == list(range(201, 701))


def test_a_copy_is_not_searched_and_added_once_per_bucket(redis_client):
    index = RedisIndex(redis_client, Keys(), SIGNER, WINDOW)
    originals = _entries(100)
    index.insert_and_query(originals)
    n = _table(redis_client)["#n"]
    copies = [IndexEntry(str(1000 + i), e.signature, T0) for i, e in enumerate(originals)]
    ids = frozenset(e.headline_id for e in copies)
    assert index.insert_and_query(copies, ids) == [[]] * 100  # their twins decide them: nothing searched
    assert _table(redis_client)["#n"] == n  # their twins already stand for them in this bucket
    [found] = index.query([IndexEntry("9", originals[0].signature, T0)])
    assert "1" in found and "1000" not in found
    later = T0 + index.bucket_seconds  # the next bucket: a copy refreshes its story in the index
    refreshed = [IndexEntry(str(2000 + i), e.signature, later) for i, e in enumerate(originals)]
    index.insert_and_query(refreshed, frozenset(e.headline_id for e in refreshed))
    assert _table(redis_client)["#n"] > n
    assert all("2000" in found for found in index.query([IndexEntry("9", originals[0].signature, later)]))
