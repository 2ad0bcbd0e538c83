"""The service end to end: batch HTTP posts -> clusters assigned, bundled Redis, API and workers as separate
processes (as `headline-dedup api` / `worker` run them), on this machine."""
from __future__ import annotations

import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple, Sequence

import redis
import requests

from bench import memory
from bench.data import Row
from headline_dedup import apikeys
from headline_dedup.storage.embedded import EmbeddedRedis
from headline_dedup.storage.keys import INGEST_GROUP, Keys
from headline_dedup.times import iso_time

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url: str, timeout: float, alive=lambda: True) -> bool:
    """Poll `url` until it answers 200 (True), the time is up or `alive()` turns false (False)."""
    deadline = time.monotonic() + timeout
    while alive() and time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return True
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    return False


class Stack(NamedTuple):
    url: str
    client: redis.Redis
    auth: dict  # the Authorization header of an admin key
    pids: dict  # process name -> pid


@contextmanager
def stack(workers: int, settings: dict[str, str] | None = None):
    """Bundled redis-server, `headline-dedup api` and N `headline-dedup worker` processes (`settings`: extra
    environment, e.g. {"HEADLINE_DEDUP_JUDGE": "e5"})."""
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis").start()
        port = _free_port()
        key, entry = apikeys.generate("bench", ["admin"])
        env = {**os.environ, "REDIS_URL": server.url, "HEADLINE_DEDUP_PORT": str(port),
               "HEADLINE_DEDUP_MAX_BACKLOG": str(10**7), "HEADLINE_DEDUP_API_KEYS": entry,
               "HEADLINE_DEDUP_AUTH_DISABLED": "false", **(settings or {})}
        exe = [sys.executable, "-m", "headline_dedup.cli.main"]
        procs = [subprocess.Popen(exe + ["api"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        procs += [subprocess.Popen(exe + ["worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(workers)]
        url = f"http://127.0.0.1:{port}"
        try:
            if not wait_until_answers(f"{url}/readyz", 30, lambda: procs[0].poll() is None):
                raise RuntimeError("the service did not become ready")
            pids = {"redis": server.process.pid, "api": procs[0].pid,
                    **{f"worker{i + 1}": p.pid for i, p in enumerate(procs[1:])}}
            yield Stack(url, redis.Redis.from_url(server.url), {"Authorization": f"Bearer {key}"}, pids)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
            server.stop()


def replay_settings(rows: Sequence[Row]) -> dict[str, str]:
    """The settings under which `run(..., times=True)` keeps every row's own time: a retention that covers the
    rows' span (an older publication time is implausible and arrival time stands in)."""
    span = max(r.timestamp for r in rows) - min(r.timestamp for r in rows)
    return {"HEADLINE_DEDUP_RETENTION_DAYS": str(math.ceil(span / 86400) + 2)}


def run(rows: Sequence[Row], workers: int, batch: int, make_stack=stack, times: bool = False) -> dict:
    """Post `rows` in batches of `batch` (one client), wait until every headline is decided, on
    `make_stack(workers)`. Without `times`, a headline's event time is its arrival, so a whole run is one live
    window (a backfill posted without times); with `times`, each is posted with its own time as `published_at`,
    shifted so that the newest is a minute old (a replay of the feed as it came; see `replay_settings`)."""
    shift = time.time() - 60 - max(r.timestamp for r in rows) if times and rows else 0.0

    def item(r: Row) -> dict:
        out = {"id": r.id, "text": r.text, "source": r.source}
        return {**out, "published_at": iso_time(r.timestamp + shift)} if times else out

    with make_stack(workers) as (url, client, auth, _):
        keys = Keys()
        baseline = client.info("memory")["used_memory"]
        ids: list[str] = []
        start = time.perf_counter()
        with requests.Session() as session:
            session.headers.update(auth)
            for i in range(0, len(rows), batch):
                body = {"headlines": [item(r) for r in rows[i:i + batch]]}
                resp = session.post(f"{url}/v1/headlines", json=body, timeout=120)
                resp.raise_for_status()
                ids += [h["id"] for h in resp.json()["headlines"]]
        posted = time.perf_counter() - start
        while client.xlen(keys.ingest) or client.xpending(keys.ingest, INGEST_GROUP)["pending"]:
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        pipe = client.pipeline(transaction=False)
        for hid in ids:
            pipe.hmget(keys.headline(hid), ["received_at", "clustered_at", "event_time_source"])
        stored = pipe.execute()
        lat = sorted((float(c) - float(r)) * 1000 for r, c, _ in stored if c)
        own_time = sum(source == b"published_at" for _, _, source in stored)
        info = client.info("memory")
        families = memory.breakdown(client, keys)
        indexed = max(1, int(client.hget(keys.meta, "indexed") or 0))
    index = memory.family_bytes(families, (*memory.BAND_FAMILIES, *memory.MEANING_FAMILIES))
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    return {"workers": workers, "batch": batch, "headlines": len(rows), "seconds": elapsed,
            "post_seconds": posted, "per_second": len(rows) / elapsed, "clustered": len(lat),
            "latency_ms_p50": q[49], "latency_ms_p99": q[98], "redis_used_memory": info["used_memory"],
            "used_memory_per_headline": (info["used_memory"] - baseline) / len(rows),
            "index_bytes_per_indexed": index / indexed, "with_own_time": own_time, "families": families}
