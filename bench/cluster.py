"""Namespaces in parallel on a real Redis Cluster (3 masters from the bundled redis-server): one deciding worker
per namespace, each namespace on its own master. Headlines are queued first (the ingest path), then the
workers start together; throughput = all headlines / the time until the last is decided."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from bench.data import Row
from bench.localcluster import LocalCluster
from headline_dedup.settings import Settings
from headline_dedup.storage.client import service_client
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import INGEST_GROUP, Keys

ROOT = Path(__file__).resolve().parents[1]


def run(rows: Sequence[Row], namespaces: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, LocalCluster(Path(tmp), masters=3) as cluster:
        spaces = cluster.spread(namespaces)
        client = service_client(cluster.url, Settings())
        for ns in spaces:
            ingestor = Ingestor(client, Keys(namespace=ns), 86400, 10**7)
            for i in range(0, len(rows), 1000):
                ingestor.submit([{"id": r.id, "text": r.text, "source": r.source} for r in rows[i:i + 1000]])
        env = {**os.environ, "REDIS_URL": cluster.url, "HEADLINE_DEDUP_LOG_LEVEL": "warning"}
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "headline_dedup.workers"], cwd=ROOT,
                                  env={**env, "HEADLINE_DEDUP_NAMESPACE": ns}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for ns in spaces]
        try:
            done: dict[str, float] = {}
            while len(done) < len(spaces):
                for ns in spaces:
                    k = Keys(namespace=ns)
                    if ns not in done and not client.xlen(k.ingest) and \
                            not client.xpending(k.ingest, INGEST_GROUP)["pending"]:
                        done[ns] = time.perf_counter() - start
                time.sleep(0.02)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(20)
        elapsed = max(done.values())
        return {"namespaces": namespaces, "headlines": len(rows) * namespaces, "seconds": elapsed,
                "per_second": len(rows) * namespaces / elapsed,
                "per_namespace": {ns: len(rows) / s for ns, s in done.items()},
                "masters": sorted({cluster.master_of(Keys(namespace=ns).meta).port for ns in spaces})}
