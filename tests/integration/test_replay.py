"""Carrying a namespace's retained headlines over to a new one (the upgrade path), on real Redis."""
import pytest

from headline_dedup.errors import ConfigurationError
from headline_dedup.evaluation import score
from headline_dedup.settings import Settings
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.replay import replay
from tests.integration.helpers import dev_rows, running_workers, statuses, submit, wait_until_decided
from headline_dedup.workers.clusterer import Clusterer

FAST = dict(worker_block_ms=50, claim_idle_ms=1000, lock_ttl_ms=2000)


def test_replay_rebuilds_the_same_clusters_in_a_new_namespace_and_is_safe_to_rerun(redis_client):
    rows = dev_rows(300)
    old, new = Settings(namespace="old", **FAST), Settings(namespace="new", worker_batch=100, **FAST)
    old_ids = submit(redis_client, old, rows)
    Ingestor(redis_client, Keys(namespace="old"), 86400, 10**9).submit([{"text": "Sans identifiant client",
                                                                          "source": "afp"}])
    redis_client.delete(Keys(namespace="old").headline(old_ids[5]))  # one record already expired
    with running_workers(redis_client, old, 1):
        before = wait_until_decided(redis_client, old, old_ids)

    target = Ingestor(redis_client, Keys(namespace="new"), 86400, max_backlog=120)
    waits = []
    report = replay(redis_client, Keys(namespace="old"), target, batch_size=100, sleep=_drain(redis_client, new, waits))
    assert (report.queued, report.already, report.expired) == (300, 0, 1)
    assert waits  # the backlog filled up and replay waited instead of failing

    with pytest.raises(ConfigurationError, match="into itself"):
        replay(redis_client, Keys(namespace="new"), target)
    again = replay(redis_client, Keys(namespace="old"), target, batch_size=100, sleep=_drain(redis_client, new, []))
    assert (again.queued, again.already) == (0, 300)

    new_ids = [str(i) for i in range(1, 301)]
    copied = statuses(redis_client, new, new_ids)
    kept = [r for i, r in enumerate(rows) if i != 5]
    assert [h["client_id"] for h in copied[:299]] == [r["row"] for r in kept]  # order and client ids carried
    assert [h["received_at"] for h in copied[:299]] == [h["received_at"] for i, h in enumerate(before) if i != 5]
    assert copied[299]["source"] == "afp" and not copied[299].get("client_id")
    with running_workers(redis_client, new, 1):
        after = wait_until_decided(redis_client, new, new_ids)
    # Same history, same engine: the same partition of the headlines (cluster ids are the new namespace's).
    old_part = [h.get("cluster_id") for i, h in enumerate(before) if i != 5]
    assert score([h.get("cluster_id") for h in after[:299]], old_part).pair_f1 == pytest.approx(1.0)


def _drain(client, settings, waits):
    """While replay waits for room in the backlog, a worker of the new namespace takes a batch (a real step,
    run here in line so that the test does not depend on timing)."""
    worker = Clusterer(client, settings, name="drain")

    def sleep(seconds):
        waits.append(seconds)
        worker.step()
    return sleep


def test_replay_keeps_the_key_that_posted_each_headline(redis_client):
    old = Ingestor(redis_client, Keys(namespace="old"), 86400, 10**9)
    old.submit([{"id": "1", "text": "Le Sénat veut renforcer la protection des haies", "api_key": "agency-a"},
                {"id": "1", "text": "Trump annonce l'envoi de migrants à Guantanamo", "api_key": "agency-b"}])
    target = Ingestor(redis_client, Keys(namespace="new"), 86400, 10**9)
    assert replay(redis_client, Keys(namespace="old"), target).queued == 2
    again = target.submit([{"id": "1", "text": "Trump annonce l'envoi de migrants à Guantanamo",
                            "api_key": "agency-b"}])
    assert not again[0].new and again[0].headline_id == "2"


def test_replay_into_a_backlog_smaller_than_its_batch_still_goes_through(redis_client):
    old, new = Settings(namespace="old", **FAST), Settings(namespace="new", **FAST)
    submit(redis_client, old, dev_rows(150))
    target = Ingestor(redis_client, Keys(namespace="new"), 86400, max_backlog=120)
    report = replay(redis_client, Keys(namespace="old"), target, sleep=_drain(redis_client, new, []))  # batch 500
    assert report.queued == 150
