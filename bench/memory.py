"""Redis memory per headline: the real ingest and worker code paths (no HTTP) on a bundled redis-server, with
the memory of each key family measured at checkpoints (MEMORY USAGE, sampled for families of many keys)."""
from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Sequence

import redis

from bench.data import Row
from headline_dedup.settings import Settings
from headline_dedup.storage.embedded import EmbeddedRedis
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.workers.clusterer import Clusterer

BAND_FAMILIES = ("bands", "lsh")  # the band index (`lsh`: the earlier layout, a hash per time bucket)
MEANING_FAMILIES = ("near", "sv")  # the index by meaning: word rows mirrored by workers, the judge's vectors
SAMPLE = 2000  # keys measured per family; the family's total is extrapolated from them


def family(key: str, tag: str) -> str:
    """`lsh`, `h`, `c`, `c:tok`, `c:m`, `idem`, ... for a key of namespace `tag`."""
    parts = key[len(tag) + 1:].split(":")
    if parts[0] == "c" and len(parts) == 3:
        return f"c:{parts[2]}"
    return parts[0]


def breakdown(client: redis.Redis, keys: Keys) -> dict[str, dict]:
    """Per key family: number of keys and bytes (exact below SAMPLE keys, extrapolated above)."""
    by_family: dict[str, list[str]] = {}
    for key in client.scan_iter(match=f"{keys.tag}:*", count=10_000):
        key = key.decode()
        by_family.setdefault(family(key, keys.tag), []).append(key)
    out = {}
    rnd = random.Random(0)
    for name, members in sorted(by_family.items()):
        sample = members if len(members) <= SAMPLE else rnd.sample(members, SAMPLE)
        pipe = client.pipeline(transaction=False)
        for key in sample:
            pipe.memory_usage(key, samples=0)
        measured = sum(n or 0 for n in pipe.execute())
        out[name] = {"keys": len(members), "bytes": round(measured * len(members) / len(sample))}
    return out


def family_bytes(families: dict[str, dict], names: Sequence[str]) -> int:
    """The bytes of these families in a `breakdown` (0 for one not there)."""
    return sum(families.get(f, {}).get("bytes", 0) for f in names)


def run(rows: Sequence[Row], checkpoints: Sequence[int], batch: int = 1000) -> list[dict]:
    """Ingest `rows` as the API does and cluster them as a worker does; at each checkpoint, the memory."""
    results = []
    batch = min([batch, *checkpoints])
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis").start()
        try:
            client = redis.Redis.from_url(server.url)
            settings = Settings(redis_url=server.url, worker_batch=batch, worker_block_ms=1)
            keys = Keys(settings.key_prefix, settings.namespace)
            ingestor = Ingestor(client, keys, settings.retention_days * 86400, 10**9)
            worker = Clusterer(client, settings, name="bench")
            baseline = client.info("memory")["used_memory"]
            todo = sorted(set(checkpoints))
            start, paused = time.perf_counter(), 0.0
            for i in range(0, len(rows), batch):
                ingestor.submit([{"id": r.id, "text": r.text, "source": r.source} for r in rows[i:i + batch]])
                while client.xlen(keys.ingest):
                    worker.step()
                done = min(i + batch, len(rows))
                if todo and done >= todo[0]:
                    todo.pop(0)
                    measuring = time.perf_counter()
                    results.append({**_snapshot(client, keys, done, baseline),
                                    "per_second": done / (measuring - start - paused)})
                    paused += time.perf_counter() - measuring
        finally:
            server.stop()
    return results


def _snapshot(client: redis.Redis, keys: Keys, headlines: int, baseline: int) -> dict:
    families = breakdown(client, keys)
    indexed = int(client.hget(keys.meta, "indexed") or 0)
    bands = family_bytes(families, BAND_FAMILIES)
    index = bands + family_bytes(families, MEANING_FAMILIES)
    used = client.info("memory")["used_memory"] - baseline
    return {"headlines": headlines, "indexed": indexed, "used_memory_bytes": used,
            "bytes_per_headline": used / headlines, "band_bytes": bands,
            "band_bytes_per_indexed": bands / max(indexed, 1),
            "index_bytes": index, "index_bytes_per_indexed": index / max(indexed, 1),
            "families_bytes_per_headline": sum(f["bytes"] for f in families.values()) / headlines,
            "families": families}


def families_table(snapshot: dict) -> list[list]:
    n = snapshot["headlines"]
    return [[name, f"{f['keys']:,}", f"{f['bytes'] / 2**20:,.1f}", f"{f['bytes'] / n:,.0f}"]
            for name, f in sorted(snapshot["families"].items(), key=lambda kv: -kv[1]["bytes"])]


