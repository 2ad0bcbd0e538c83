"""Carrying headlines over from one namespace to another: after a normalisation or signature change (a new
index fingerprint needs a new namespace), the retained headlines of the old namespace are queued again in the new
one, in their original order and with their original arrival times, so that its workers rebuild clusters and
document frequencies from the same history instead of starting cold."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import redis

from headline_dedup.errors import ConfigurationError, Overloaded
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

_CARRIED = ("text", "source", "url", "lang", "published_at", "body", "received_at", "api_key")


@dataclass
class ReplayReport:
    queued: int = 0  # new in the target namespace
    already: int = 0  # the target had them (same client id, or same source and text): a re-run is harmless
    expired: int = 0  # ids of the source namespace whose record is gone


def replay(client: redis.Redis, source: Keys, target: Ingestor, batch_size: int = 500,
           progress: Callable[[ReplayReport], None] | None = None, sleep: Callable[[float], None] = time.sleep
           ) -> ReplayReport:
    """Queue every retained headline of `source` into `target`'s namespace, oldest first, keeping client ids and
    the API key that posted them (idempotency carries over). Waits while the target's backlog is full."""
    if source == target.keys:
        raise ConfigurationError(message=f"replaying namespace {source.namespace!r} into itself")
    report = ReplayReport()
    batch_size = max(1, min(batch_size, target.max_backlog // 2))  # a batch larger than the backlog never fits
    last = int(client.get(source.seq) or 0)
    for start in range(1, last + 1, batch_size):
        pipe = client.pipeline(transaction=False)
        for hid in range(start, min(last, start + batch_size - 1) + 1):
            pipe.hmget(source.headline(str(hid)), ("client_id", *_CARRIED))
        items = []
        for values in pipe.execute():
            record = dict(zip(("id", *_CARRIED), (as_text(v) if v is not None else None for v in values)))
            if record["text"] is None:
                report.expired += 1
                continue
            items.append({f: v for f, v in record.items() if v})
        if items:
            accepted = _submit_when_room(target, items, sleep)
            report.queued += sum(a.new for a in accepted)
            report.already += sum(not a.new for a in accepted)
        if progress:
            progress(report)
    return report


def _submit_when_room(target: Ingestor, items: list[dict], sleep: Callable[[float], None]):
    """Submit, waiting out back-pressure (the target's workers drain its backlog meanwhile)."""
    while True:
        try:
            return target.submit(items, request_id="replay")
        except Overloaded as exc:
            sleep(exc.retry_after or 1)
