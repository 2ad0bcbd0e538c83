"""The backlog limit is checked in the ingest script, atomically with the writes: a batch is accepted only if the
ingest stream is at most `max_backlog` long after it; one that would cross the limit is refused whole."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from headline_dedup.errors import InvalidRequest, Overloaded
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys


def _batch(tag: str, n: int) -> list[dict]:
    return [{"id": f"{tag}-{i}", "text": f"Titre {tag} numéro {i}"} for i in range(n)]


def test_concurrent_batches_never_take_the_backlog_past_its_limit(redis_client):
    keys, limit, threads, rounds, size = Keys(), 100, 8, 10, 9
    barrier = threading.Barrier(threads)

    def post(t: int) -> int:
        ingestor = Ingestor(redis_client, keys, 86400, limit)
        accepted = 0
        for r in range(rounds):
            barrier.wait()  # every thread submits at once, round after round
            try:
                accepted += len(ingestor.submit(_batch(f"t{t}r{r}", size)))
            except Overloaded:
                pass
        return accepted

    with ThreadPoolExecutor(threads) as pool:
        accepted = sum(pool.map(post, range(threads)))
    backlog = redis_client.xlen(keys.ingest)
    assert backlog <= limit and backlog == accepted == int(redis_client.hget(keys.meta, "received"))
    # Ids are reserved before the script decides; a refused batch gives its ids back only when no batch reserved
    # after it, so concurrent refusals leave gaps: ids increase, `received` counts.
    assert int(redis_client.get(keys.seq)) >= accepted
    assert limit - backlog < size  # refused only when the next batch could not fit


def test_a_batch_that_would_cross_the_limit_is_refused_whole(redis_client):
    keys = Keys()
    ingestor = Ingestor(redis_client, keys, 86400, 10)
    ingestor.submit(_batch("a", 6))
    with pytest.raises(Overloaded):
        ingestor.submit(_batch("b", 5))
    assert redis_client.xlen(keys.ingest) == 6 and int(redis_client.get(keys.seq)) == 6
    ingestor.submit(_batch("c", 4))  # exactly at the limit
    assert redis_client.xlen(keys.ingest) == 10
    again = ingestor.submit(_batch("a", 6))  # replays add nothing: accepted even with a full backlog
    assert not any(a.new for a in again)
    with pytest.raises(Overloaded):
        ingestor.submit(_batch("a", 7))  # one of them is new


def test_a_batch_larger_than_the_limit_is_a_client_error(redis_client):
    with pytest.raises(InvalidRequest) as err:
        Ingestor(redis_client, Keys(), 86400, 10).submit(_batch("a", 11))  # it would never fit: no retry helps
    assert err.value.code == "batch_too_large" and redis_client.xlen(Keys().ingest) == 0
