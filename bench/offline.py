"""Offline clustering speed: our `cluster` code path against the plain datasketch in-memory loop, same rows,
same process, one core."""
from __future__ import annotations

import time
from typing import Sequence

from bench.data import Row
from headline_dedup.feeds import FeedRow
from headline_dedup.offline import cluster_rows, memory_engine


def ours(rows: Sequence[Row], chunk: int = 10_000) -> dict:
    """Headlines/s of the engine as `headline-dedup cluster` runs it, and the cost of each `chunk` rows."""
    engine = memory_engine()
    feed = (FeedRow(r.id, r.text, r.timestamp) for r in rows)
    curve, clusters = [], set()
    start = last = time.perf_counter()
    batch = min(1000, chunk)  # decisions arrive a batch at a time: time whole batches
    chunk -= chunk % batch
    for n, (_, decision) in enumerate(cluster_rows(feed, engine, batch_size=batch), 1):
        clusters.add(decision.cluster_id)
        if n % chunk == 0:
            now = time.perf_counter()
            curve.append({"indexed": n, "us_per_headline": (now - last) / chunk * 1e6,
                          "index_size": len(engine.index)})
            last = now
    elapsed = time.perf_counter() - start
    return {"name": "headline-dedup cluster", "headlines": len(rows), "seconds": elapsed,
            "per_second": len(rows) / elapsed, "clusters": len(clusters), "curve": curve}


def datasketch_loop(rows: Sequence[Row], threshold: float = 0.5, num_perm: int = 128,
                    storage_config: dict | None = None) -> dict:
    """DESIGN.md's plain loop, as datasketch's README suggests: lower-cased words, one MinHash per headline,
    query then insert into a MinHashLSH (in memory, or on `storage_config`), join the group of the earliest
    candidate (no verification, no window: the index only grows). datasketch returns candidates as a set, whose
    order changes with PYTHONHASHSEED: taking the earliest keeps the figures the same from run to run."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, storage_config=storage_config)
    group: dict[str, str] = {}
    position: dict[str, int] = {}
    start = time.perf_counter()
    for i, r in enumerate(rows):
        m = MinHash(num_perm=num_perm)
        m.update_batch([w.encode("utf-8") for w in r.text.lower().split()])
        found = lsh.query(m)
        group[r.id] = group[min(found, key=position.__getitem__)] if found else r.id
        position[r.id] = i
        lsh.insert(r.id, m, check_duplication=False)
    elapsed = time.perf_counter() - start
    return {"name": "datasketch MinHashLSH loop (in memory)", "headlines": len(rows), "seconds": elapsed,
            "per_second": len(rows) / elapsed, "clusters": len(set(group.values())), "labels": group}
