"""The semantic tier's embeddings, paid outside the clustering lock, by every worker at once.

Deciding is serial (one batch at a time, under the lock); embedding with e5 is the slow part (24-36 headlines/s a
core, by machine; in a 2-worker run it took 87% of a worker's time). So before a worker queues for the lock, it
embeds ahead: it pages through the entries no worker has been given yet, claims the first page in which it wins
entries (a short-lived key per stream entry, so two workers never embed the same ones: the second worker takes the
page after the first's), and runs the engine over every waiting entry up to the end of its page as a dry run. Every
decision the judge would be asked about for its own entries embeds what it needs (the headline and its candidates)
and stores the vectors; the entries before them are only context, so that a rewrite of a headline in an earlier
page is foreseen too. A claim says "done" once its vectors are stored. A worker does not decide a batch whose
entries another worker is still embedding (it would embed them again under the lock): it embeds further ahead or
waits, until the claim is done or has expired (its claimer died). What the dry run could not foresee is embedded
while deciding, once.
"""
from __future__ import annotations

import time

import redis

from headline_dedup.engine import Engine
from headline_dedup.logs import get_logger
from headline_dedup.ports import Headline
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

log = get_logger("headline_dedup.worker")
CLAIM_SECONDS = 60  # an entry claimed for embedding is left to its claimer this long (a dead claimer's expire)
LOOKAHEAD_PAGES = 2  # how many pages past the next batch a worker looks for entries to embed (one per other worker)
DONE = "done"


def headline_of(fields: dict) -> Headline:
    """The engine's headline from a queued message's fields: its event time is the publication time when the API
    found it plausible, else the arrival time; the lead sentence of its body was computed at ingest."""
    return Headline(fields["id"], fields["text"], fields.get("lang") or "fr", fields.get("source") or None,
                    float(fields.get("event_at") or fields.get("received_at") or 0), fields.get("lead") or None)


class EmbedAhead:
    def __init__(self, client: redis.Redis, keys: Keys, engine: Engine, batch: int, name: str):
        self.client, self.keys, self.engine, self.batch, self.name = client, keys, engine, batch, name

    def _waiting(self, after: str, count: int) -> list[tuple[str, dict]]:
        """Up to `count` entries after `after`, the group's last delivered one (not given to any worker yet)."""
        page = self.client.xrange(self.keys.ingest, min=f"({after}", max="+", count=count)
        return [(as_text(mid), {as_text(k): as_text(v) for k, v in f.items()}) for mid, f in page]

    def _claim(self, entries: list[tuple[str, dict]]) -> list[str]:
        pipe = self.client.pipeline(transaction=False)
        for mid, _ in entries:
            pipe.set(self.keys.embed_claim(mid), self.name, nx=True, ex=CLAIM_SECONDS)
        return [mid for (mid, _), won in zip(entries, pipe.execute()) if won]

    def run(self, after: str) -> int:
        """Embed ahead for the first page of entries after `after` (the consumer group's last delivered id) in
        which this worker wins claims; returns how many headlines it claimed."""
        waiting = self._waiting(after, self.batch * (1 + LOOKAHEAD_PAGES))
        for start in range(0, len(waiting), self.batch):
            page = waiting[start:start + self.batch]
            mine = set(self._claim(page))
            if mine:
                context = [headline_of(f) for _, f in waiting[:start + len(page)] if f.get("text")]
                ids = {f["id"] for mid, f in page if mid in mine and f.get("text")}
                source, began = self.engine.judge.source, time.monotonic()
                embedded = getattr(source, "embedded", 0)
                self.engine.foresee(context, only=ids)
                self._done(sorted(mine))
                log.info("embedded ahead", worker=self.name, claimed=len(mine), context=len(context),
                         embedded=getattr(source, "embedded", 0) - embedded,
                         seconds=round(time.monotonic() - began, 2))
                return len(mine)
        return 0

    def _done(self, entry_ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for mid in entry_ids:
            pipe.set(self.keys.embed_claim(mid), DONE, xx=True, ex=CLAIM_SECONDS)
        pipe.execute()

    def _claims(self, entry_ids: list[str]) -> list[str | None]:
        """Who claimed each entry (a worker's name, DONE, or None)."""
        return [as_text(c) for c in self.client.mget([self.keys.embed_claim(mid) for mid in entry_ids])]

    def embedded(self, entry_ids: list[str]) -> bool:
        """Whether every one of these entries was embedded ahead (its claim is done)."""
        return bool(entry_ids) and all(c == DONE for c in self._claims(entry_ids))

    def being_embedded(self, after: str) -> bool:
        """Whether another worker is still embedding entries of the next batch (the `batch` entries after
        `after`)."""
        entries = self._waiting(after, self.batch)
        return bool(entries) and any(c is not None and c not in (DONE, self.name)
                                     for c in self._claims([mid for mid, _ in entries]))
