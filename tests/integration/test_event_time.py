"""A headline's event time: its publication time when plausible, else its arrival (window and live stories)."""
import time
from datetime import datetime, timezone

from headline_dedup.settings import Settings
from headline_dedup.storage.ingest import MAX_CLOCK_AHEAD, Ingestor, event_time
from headline_dedup.storage.keys import Keys
from tests.integration.helpers import running_workers, wait_until_decided

STRIKE = "Grève des pilotes d'Air France: vols annulés"
STRIKE_LATER = "La grève des pilotes d'Air France perturbe le trafic à Roissy et Orly"  # a middling match
TOUR = "Cyclisme: le Tour de France 2027 partira de Bretagne"
TOUR_LATER = "Tour de France: la Bretagne se prépare à accueillir le départ 2027"  # a middling match
DAY = 86400.0


def test_publication_times_that_count_and_those_that_do_not():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc).timestamp()
    assert event_time("2026-11-23T09:30:00Z", now, DAY) == now - 2.5 * 3600
    assert event_time("2026-11-23T10:30:00+01:00", now, DAY) == now - 2.5 * 3600
    assert event_time("2026-11-23 09:30:00", now, DAY) == now - 2.5 * 3600  # no zone: UTC
    assert event_time("Mon, 23 Nov 2026 10:30:00 +0100", now, DAY) == now - 2.5 * 3600  # RSS pubDate
    assert event_time("Mon, 23 Nov 2026 09:30:00 -0000", now, DAY) == now - 2.5 * 3600
    assert event_time("2026-11-23T12:04:00Z", now, DAY) == now + 240  # a clock slightly ahead
    assert event_time("2026-11-23T13:00:00Z", now, DAY) is None and MAX_CLOCK_AHEAD < 3600  # the future
    assert event_time("2026-11-20T12:00:00Z", now, DAY) is None  # older than retention
    assert event_time("hier soir", now, DAY) is None and event_time("", now, DAY) is None
    assert event_time(None, now, DAY) is None


def test_published_at_decides_whether_a_story_is_live(redis_client):
    settings = Settings(_env_file=None, worker_block_ms=50)
    keys = Keys(settings.key_prefix, settings.namespace)
    ingestor = Ingestor(redis_client, keys, 7 * DAY, 10**9)
    stamp = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat()  # noqa: E731
    now = time.time()
    posted = [
        # published ten hours apart: the story had gone quiet
        {"id": "a1", "text": STRIKE, "published_at": stamp(now - 11 * 3600)},
        {"id": "a2", "text": STRIKE_LATER, "published_at": stamp(now - 3600)},
        # no usable publication time: both arrive now, so the story is live
        {"id": "b1", "text": TOUR},
        {"id": "b2", "text": TOUR_LATER, "published_at": "hier soir"},
    ]
    ids = [ingestor.submit([item])[0].headline_id for item in posted]
    messages = redis_client.xrange(keys.ingest)
    assert [b"event_at" in fields or "event_at" in fields for _, fields in messages] == [True, True, False, False]
    with running_workers(redis_client, settings, 1):
        a1, a2, b1, b2 = wait_until_decided(redis_client, settings, ids)
    assert a2["cluster_id"] != a1["cluster_id"] and a2["reason"] == "new"
    assert b2["cluster_id"] == b1["cluster_id"] and b2["reason"] == "live"
    assert redis_client.hget(keys.headline(ids[1]), "published_at") in (stamp(now - 3600), stamp(now - 3600).encode())
