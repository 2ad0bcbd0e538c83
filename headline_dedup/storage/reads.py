"""What the API reads: headlines, clusters, statistics and dead letters, in pipelined round trips."""
from __future__ import annotations

import time
from typing import Iterable

import redis

from headline_dedup.storage.keys import INGEST_GROUP, Keys
from headline_dedup.storage.store import as_text
from headline_dedup.times import iso_or_none

_CLUSTER_FIELDS = ("size", "rep_id", "first_seen", "last_seen")  # not its exact-key list, which can be long
_LAST_ID = f"{2 ** 64 - 1}-{2 ** 64 - 1}"


def _headline(hid: str, raw: dict) -> dict | None:
    if not raw:
        return None
    h = {as_text(k): as_text(v) for k, v in raw.items()}
    return {"id": hid, "client_id": h.get("client_id") or None, "text": h.get("text"),
            "source": h.get("source") or None, "url": h.get("url"), "lang": h.get("lang") or "fr",
            "status": h.get("status"), "cluster_id": h.get("cluster_id"), "reason": h.get("reason"),
            "score": float(h["score"]) if h.get("score") else None,
            "received_at": iso_or_none(h.get("received_at")), "event_at": iso_or_none(h.get("event_at")),
            "event_time_source": h.get("event_time_source") or None,
            "request_id": h.get("request_id") or None}


class Reader:
    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys

    def headlines(self, ids: Iterable[str]) -> list[dict | None]:
        ids = list(ids)
        pipe = self.client.pipeline(transaction=False)
        for hid in ids:
            pipe.hgetall(self.keys.headline(hid))
        return [_headline(hid, raw) for hid, raw in zip(ids, pipe.execute())]

    def clusters(self, ids: Iterable[str], members: bool = False) -> list[dict | None]:
        """Clusters with their representative headline, and their members when asked."""
        ids = list(ids)
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(k.cluster(cid), _CLUSTER_FIELDS)
            pipe.hgetall(k.cluster_members(cid))
        raw = pipe.execute()
        metas = [{f: as_text(v) for f, v in zip(_CLUSTER_FIELDS, m) if v is not None} for m in raw[0::2]]
        member_scores = [{as_text(a): float(b) for a, b in m.items()} for m in raw[1::2]]
        wanted = {m["rep_id"] for m in metas if m.get("rep_id")}
        if members:
            wanted.update(h for ms in member_scores for h in ms)
        by_id = dict(zip(sorted(wanted), self.headlines(sorted(wanted))))
        sources = self._sources(member_scores, by_id)
        out = []
        for cid, meta, scores in zip(ids, metas, member_scores):
            if not meta.get("size"):
                out.append(None)
                continue
            c = {"id": cid, "size": int(meta["size"]), "representative": by_id.get(meta.get("rep_id")),
                 "sources": sorted({sources[m] for m in scores if sources.get(m)}),
                 "first_seen": iso_or_none(meta.get("first_seen")), "last_seen": iso_or_none(meta.get("last_seen"))}
            if members:
                order = sorted(scores, key=lambda m: (len(m), m))
                c["members"] = [{**by_id[m], "score": scores[m]} for m in order if by_id.get(m)]
            out.append(c)
        return out

    def _sources(self, member_scores: list[dict[str, float]], known: dict[str, dict | None]) -> dict[str, str]:
        """Each member's source (read from the records already loaded, else with one HGET each, pipelined)."""
        found = {m: h["source"] for m, h in known.items() if h and h.get("source")}
        missing = sorted({m for ms in member_scores for m in ms if m not in known})
        if missing:
            pipe = self.client.pipeline(transaction=False)
            for m in missing:
                pipe.hget(self.keys.headline(m), "source")
            found.update({m: as_text(v) for m, v in zip(missing, pipe.execute()) if v})
        return found

    def cluster_page(self, cursor: int, limit: int, updated_since: float | None) -> tuple[list[str], int | None]:
        """Cluster ids by last update, newest first, from position `cursor`; and the next cursor."""
        lo = updated_since if updated_since is not None else "-inf"
        ids = self.client.zrevrangebyscore(self.keys.clusters, "+inf", lo, start=cursor, num=limit)
        return [as_text(c) for c in ids], (cursor + len(ids) if len(ids) == limit else None)

    def stats(self) -> dict:
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(k.meta, "received")
        pipe.get(k.seq)  # namespaces from before `received`: their ids then counted the headlines
        pipe.zcard(k.clusters)
        pipe.xlen(k.ingest)
        pipe.xlen(k.dead)
        pipe.xlen(k.events)
        received, seq, clusters, backlog, dead, events = pipe.execute()
        try:
            pending = self.client.xpending(k.ingest, INGEST_GROUP)["pending"]
        except redis.ResponseError:  # no stream or group yet
            pending = 0
        return {"headlines": int(received or seq or 0), "clusters": clusters, "backlog": backlog, "pending": pending,
                "dead_letters": dead, "events": events}

    def ingest_lag(self) -> float:
        """Seconds since the oldest headline still in the ingest stream was queued (0 when empty)."""
        first = self.client.xrange(self.keys.ingest, count=1)
        if not first:
            return 0.0
        ms = int(as_text(first[0][0]).split("-")[0])
        return max(0.0, time.time() - ms / 1000)

    def dead_letters(self, after: str, limit: int) -> tuple[list[dict], str | None]:
        """Dead-lettered messages (oldest first) after stream id `after` ("-": from the first), and the next
        cursor."""
        if after == _LAST_ID:  # Redis refuses an exclusive range from the largest id: nothing can follow it
            return [], None
        entries = self.client.xrange(self.keys.dead, min=f"({after}" if after != "-" else "-", count=limit)
        out = [{"entry_id": as_text(eid), **{as_text(a): as_text(b) for a, b in f.items()}} for eid, f in entries]
        return out, (out[-1]["entry_id"] if len(out) == limit else None)
