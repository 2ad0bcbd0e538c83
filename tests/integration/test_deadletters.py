"""stage_dead_letter against a real Redis: capped dead stream, no re-created records, entry acked and gone."""
import json

from headline_dedup.storage.deadletters import stage_dead_letter
from headline_dedup.storage.keys import INGEST_GROUP, Keys
from headline_dedup.storage.store import as_text

KEYS = Keys()


def _pending_entry(client, hid: str, ttl: int | None = 3600) -> str:
    """An ingest entry read by a consumer (pending), with its headline record."""
    client.hset(KEYS.headline(hid), mapping={"text": "t", "status": "queued"})
    if ttl:
        client.expire(KEYS.headline(hid), ttl)
    mid = as_text(client.xadd(KEYS.ingest, {"id": hid, "text": "t"}))
    client.xreadgroup(INGEST_GROUP, "w", {KEYS.ingest: ">"})
    return mid


def _decoded(entry_fields) -> dict:
    return {as_text(k): as_text(v) for k, v in entry_fields.items()}


def test_dead_letter_moves_the_entry_marks_the_record_and_publishes(redis_client):
    client = redis_client
    client.xgroup_create(KEYS.ingest, INGEST_GROUP, id="0", mkstream=True)
    mid = _pending_entry(client, "1")
    data = json.dumps({"headline": {"id": "1", "reason": "dead_letter"}})
    pipe = client.pipeline(transaction=True)
    stage_dead_letter(pipe, KEYS, {"id": "1", "text": "t"}, mid, "RuntimeError: boom", 100, 3600,
                      event_data=data, events_maxlen=1000)
    pipe.execute()
    [(_, dead)] = client.xrange(KEYS.dead)
    assert _decoded(dead) == {"id": "1", "text": "t", "entry_id": mid, "error": "RuntimeError: boom"}
    record = _decoded(client.hgetall(KEYS.headline("1")))
    assert record["status"] == "dead" and record["reason"] == "RuntimeError: boom"
    assert client.xlen(KEYS.ingest) == 0 and client.xpending(KEYS.ingest, INGEST_GROUP)["pending"] == 0
    [(_, event)] = client.xrange(KEYS.events)
    assert _decoded(event) == {"type": "headline.rejected", "data": data}


def test_dead_letter_never_recreates_an_expired_record_and_gives_one_without_expiry_a_ttl(redis_client):
    client = redis_client
    client.xgroup_create(KEYS.ingest, INGEST_GROUP, id="0", mkstream=True)
    expired = _pending_entry(client, "1")
    client.delete(KEYS.headline("1"))  # its retention ran out while it was pending
    stage_dead_letter(client, KEYS, {"id": "1", "text": "t"}, expired, "E: x", event_data="{}", events_maxlen=1000,
                      record_ttl=3600)
    assert not client.exists(KEYS.headline("1"))
    lasting = _pending_entry(client, "2", ttl=None)
    stage_dead_letter(client, KEYS, {"id": "2", "text": "t"}, lasting, "E: x", event_data="{}", events_maxlen=1000,
                      record_ttl=3600)
    assert 0 < client.ttl(KEYS.headline("2")) <= 3600
    assert client.xlen(KEYS.dead) == 2 and client.xlen(KEYS.ingest) == 0


def test_the_dead_stream_is_capped(redis_client):
    client = redis_client
    client.xgroup_create(KEYS.ingest, INGEST_GROUP, id="0", mkstream=True)
    for i in range(300):
        mid = as_text(client.xadd(KEYS.ingest, {"id": str(i), "text": "t"}))
        stage_dead_letter(client, KEYS, {"id": str(i), "text": "t"}, mid, "E: x", maxlen=10, event_data="{}",
                          events_maxlen=1000)
    # MAXLEN ~ trims whole stream nodes (100 entries by default), so up to one node more than asked stays
    assert 10 <= client.xlen(KEYS.dead) <= 110
    assert client.xlen(KEYS.ingest) == 0
