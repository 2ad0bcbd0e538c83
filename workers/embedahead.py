"""The semantic tier's embeddings, paid outside the clustering lock.

Deciding is serial (one batch at a time, under the lock); embedding with e5 is the slow part (~36 headlines/s a
core). So before a worker queues for the lock, it looks at the headlines no worker has claimed yet, claims a
share of them for embedding (a short-lived key per stream entry, so two workers never embed the same ones),
and runs the engine over them as a dry run: every decision the judge would be asked about embeds what it needs
(the headline and its candidates) and stores the vectors. Under the lock the batch then finds them stored. What
the dry run could not foresee (a rewrite of a headline in the same batch) is embedded while deciding, once.
"""
from __future__ import annotations

import redis

from headline_dedup.engine import Engine
from headline_dedup.ports import Headline
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

CLAIM_SECONDS = 120  # an entry claimed for embedding is left to its claimer this long


def headline_of(fields: dict) -> Headline:
    """The engine's headline from a queued message's fields: its event time is the publication time when the API
    found it plausible, else the arrival time; the lead sentence of its body was computed at ingest."""
    return Headline(fields["id"], fields["text"], fields.get("lang") or "fr", fields.get("source") or None,
                    float(fields.get("event_at") or fields.get("received_at") or 0), fields.get("lead") or None)


class EmbedAhead:
    def __init__(self, client: redis.Redis, keys: Keys, engine: Engine, batch: int):
        self.client, self.keys, self.engine, self.batch = client, keys, engine, batch

    def _waiting(self, after: str) -> list[tuple[str, dict]]:
        """Up to `batch` entries after `after`, the group's last delivered one (not claimed by any worker yet)."""
        page = self.client.xrange(self.keys.ingest, min=f"({after}", max="+", count=self.batch)
        return [(as_text(mid), {as_text(k): as_text(v) for k, v in f.items()}) for mid, f in page]

    def _claim(self, entries: list[tuple[str, dict]]) -> list[dict]:
        pipe = self.client.pipeline(transaction=False)
        for mid, _ in entries:
            pipe.set(self.keys.embed_claim(mid), "1", nx=True, ex=CLAIM_SECONDS)
        return [f for (_, f), won in zip(entries, pipe.execute()) if won and f.get("text")]

    def run(self, after: str) -> int:
        """Embed ahead for the entries after `after` (the consumer group's last delivered id) that this worker
        claims; returns how many headlines it looked at."""
        mine = self._claim(self._waiting(after))
        if mine:
            self.engine.foresee([headline_of(f) for f in mine])
        return len(mine)
