"""Accepting headlines on real Redis: idempotency per API key, and client ids reused for another text."""
import pytest

from headline_dedup.errors import Conflict
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys

A, B = "Zone euro: la croissance cale en fin d'année", "Le Sénat veut renforcer la protection des haies"


@pytest.fixture
def ingestor(redis_client):
    return Ingestor(redis_client, Keys(namespace="ingest-test"), 86400, 10**9)


def _state(ingestor):
    k = ingestor.keys
    return ingestor.client.get(k.seq), ingestor.backlog()


def test_the_same_post_again_is_the_same_headline_for_its_own_key_only(ingestor):
    first = ingestor.submit([{"id": "1", "text": A, "api_key": "agency-a"}, {"text": B, "source": "afp"}])
    assert [a.new for a in first] == [True, True]
    again = ingestor.submit([{"id": "1", "text": A, "api_key": "agency-a"}, {"text": B, "source": "afp"}])
    assert [(a.headline_id, a.new) for a in again] == [(a.headline_id, False) for a in first]
    # Another key's id "1" is its own headline, and so is its post of the same source and text.
    other = ingestor.submit([{"id": "1", "text": B, "api_key": "agency-b"},
                             {"text": B, "source": "afp", "api_key": "agency-b"}])
    assert all(a.new for a in other) and {a.headline_id for a in other}.isdisjoint(a.headline_id for a in first)
    fields = ingestor.client.hgetall(ingestor.keys.headline(other[0].headline_id))
    assert fields[b"api_key"] == b"agency-b" and fields[b"client_id"] == b"1"


def test_a_client_id_reused_for_another_text_is_a_conflict_that_stores_nothing(ingestor):
    ingestor.submit([{"id": "7", "text": A, "api_key": "agency-a"}])
    before = _state(ingestor)
    with pytest.raises(Conflict) as exc:
        ingestor.submit([{"id": "8", "text": B, "api_key": "agency-a"},
                         {"id": "7", "text": B, "api_key": "agency-a"}])
    assert exc.value.code == "id_conflict" and exc.value.field == "headlines.1.id"
    assert _state(ingestor) == before  # not even the first, valid item
    # Within one batch too.
    with pytest.raises(Conflict):
        ingestor.submit([{"id": "9", "text": A}, {"id": "9", "text": B}])
    assert _state(ingestor) == before
    # The same text under the same id is a replay, in a batch or across batches.
    replays = ingestor.submit([{"id": "9", "text": A}, {"id": "9", "text": A}, {"id": "7", "text": A,
                                                                                  "api_key": "agency-a"}])
    assert [a.new for a in replays] == [True, False, False] and replays[0].headline_id == replays[1].headline_id
