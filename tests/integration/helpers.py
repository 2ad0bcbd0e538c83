"""Shared helpers of the service integration tests (real Redis, real workers)."""
from __future__ import annotations

import csv
import threading
import time
from contextlib import contextmanager

from headline_dedup.settings import Settings
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from tests.conftest import shared
from headline_dedup.workers.clusterer import Clusterer


def dev_rows(n: int) -> list[dict]:
    with open(shared("fr-news-day/dev.tsv"), encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: r["timestamp"])
    return rows[:n]


def submit(client, settings: Settings, rows: list[dict], batch: int = 100) -> list[str]:
    """Ingest dev rows (client id = row) as the API does; returns headline ids in order."""
    ingestor = Ingestor(client, Keys(settings.key_prefix, settings.namespace), 86400, 10**9)
    ids = []
    for i in range(0, len(rows), batch):
        ids += [a.headline_id for a in ingestor.submit([{"id": r["row"], "text": r["title"]}
                                                        for r in rows[i:i + batch]])]
    return ids


def statuses(client, settings: Settings, ids: list[str]) -> list[dict]:
    keys = Keys(settings.key_prefix, settings.namespace)
    pipe = client.pipeline(transaction=False)
    for hid in ids:
        pipe.hgetall(keys.headline(hid))
    return [{as_text(k): as_text(v) for k, v in h.items()} for h in pipe.execute()]


def wait_until_decided(client, settings: Settings, ids: list[str], timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        hs = statuses(client, settings, ids)
        if all(h.get("status") in ("clustered", "rejected", "dead") for h in hs):
            return hs
        if time.monotonic() > deadline:
            missing = sum(h.get("status") == "queued" for h in hs)
            raise AssertionError(f"{missing} headlines still queued after {timeout} s")
        time.sleep(0.05)


@contextmanager
def running_workers(client, settings: Settings, n: int):
    with running(*(Clusterer(client, settings, name=f"t{i}") for i in range(n))) as workers:
        yield workers


@contextmanager
def running(*roles):
    """Run worker roles (clusterers, dispatchers) in threads for the duration of the block."""
    workers = list(roles)
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    try:
        yield workers
    finally:
        for w in workers:
            w.stop()
        for t in threads:
            t.join(10)
