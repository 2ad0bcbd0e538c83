"""POST -> SSE event latency: a steady ingest rate, N subscribers, latency from just before the POST to the
moment each subscriber reads the headline's event."""
from __future__ import annotations

import statistics
import threading
import time
from typing import Sequence

import requests

from bench.data import Row
from bench.service import stack
from headline_dedup.sse import parse


def run(rows: Sequence[Row], rate: float, subscribers: int, batch: int = 10) -> dict:
    with stack(workers=1) as (url, _client, auth, _):
        sent: dict[str, float] = {}
        received: list[tuple[str, float]] = []
        lock = threading.Lock()
        ready = threading.Barrier(subscribers + 1, timeout=60)
        stop = threading.Event()

        def subscriber():
            resp = requests.get(f"{url}/v1/events", params={"types": "cluster.created,cluster.updated"},
                                headers=auth, stream=True, timeout=(5, 30))
            first = True
            try:
                for e in parse(resp.iter_lines(decode_unicode=True)):
                    now = time.perf_counter()
                    if first:
                        first = False
                        ready.wait()
                    if e.data and (m := e.data.get("member")):
                        with lock:  # joined with the send times afterwards: the event may beat the reply
                            received.append((m["id"], now))
                    if stop.is_set():
                        break
            except requests.RequestException:
                if not stop.is_set():
                    raise
            finally:
                resp.close()

        threads = [threading.Thread(target=subscriber, daemon=True) for _ in range(subscribers)]
        for t in threads:
            t.start()
        ready.wait()
        interval = batch / rate
        start = time.perf_counter()
        with requests.Session() as s:
            s.headers.update(auth)
            for n, i in enumerate(range(0, len(rows), batch)):
                delay = start + n * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                body = {"headlines": [{"id": f"e{r.id}", "text": r.text, "source": r.source}
                                      for r in rows[i:i + batch]]}
                t0 = time.perf_counter()
                for h in s.post(f"{url}/v1/headlines", json=body, timeout=30).json()["headlines"]:
                    with lock:
                        sent.setdefault(h["id"], t0)
        elapsed = time.perf_counter() - start
        deadline = time.monotonic() + 10
        while len(received) < len(rows) * subscribers and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
    lat = sorted((t - sent[hid]) * 1000 for hid, t in received if hid in sent)
    q = statistics.quantiles(lat, n=100)
    return {"headlines": len(rows), "rate_target": rate, "rate_actual": len(rows) / elapsed,
            "subscribers": subscribers, "deliveries": len(lat), "expected_deliveries": len(rows) * subscribers,
            "latency_ms_p50": q[49], "latency_ms_p99": q[98], "latency_ms_max": lat[-1]}
