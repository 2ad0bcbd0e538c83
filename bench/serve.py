"""`serve` (the README's path: a supervisor running Redis, the API, a worker and the dispatcher as processes)
against `api` + `worker` processes, and request latency with 500 idle event streams open."""
from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import redis
import requests

from bench.service import ROOT, Stack, _free_port
from headline_dedup import apikeys


@contextmanager
def serve_stack(workers: int = 1):
    """`headline-dedup serve` on a fresh data directory (it runs one worker: `workers` must be 1)."""
    assert workers == 1, "serve runs one clustering worker"
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, port = Path(tmp) / "redis", _free_port()
        key, entry = apikeys.generate("bench", ["admin"])
        env = {**os.environ, "HEADLINE_DEDUP_API_KEYS": entry, "HEADLINE_DEDUP_AUTH_DISABLED": "false",
               "HEADLINE_DEDUP_MAX_BACKLOG": str(10**7)}
        proc = subprocess.Popen([sys.executable, "-m", "headline_dedup.cli.main", "serve", "--port", str(port),
                                 "--data-dir", str(data_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        try:
            for line in proc.stdout:
                if "serving on" in line:
                    break
            else:
                raise RuntimeError("serve did not start")
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
            client = redis.Redis(unix_socket_path=str(data_dir / "redis.sock"))
            yield Stack(f"http://127.0.0.1:{port}", client, {"Authorization": f"Bearer {key}"}, {"serve": proc.pid})
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(60)


def _quantiles(samples: list[float]) -> dict:
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "max_ms": max(samples) * 1000}


def request_latency(url: str, auth: dict, samples: int) -> dict:
    """POST (a batch of 10) and GET /readyz latency, `samples` each, one client."""
    post, ready = [], []
    with requests.Session() as session:
        session.headers.update(auth)
        for i in range(samples):
            body = {"headlines": [{"text": f"Titre de mesure {i}-{j} pendant les flux"} for j in range(10)]}
            t = time.perf_counter()
            session.post(f"{url}/v1/headlines", json=body, timeout=30).raise_for_status()
            post.append(time.perf_counter() - t)
            t = time.perf_counter()
            session.get(f"{url}/readyz", timeout=30).raise_for_status()
            ready.append(time.perf_counter() - t)
    return {"post": _quantiles(post), "readyz": _quantiles(ready)}


def idle_streams(make_stack, streams: int, samples: int) -> dict:
    """Request latency without event streams, then with `streams` idle ones open, on one stack."""
    with make_stack(1) as st:
        before = request_latency(st.url, st.auth, samples)
        opened = []
        try:
            for _ in range(streams):
                resp = requests.get(f"{st.url}/v1/events", headers=st.auth, stream=True, timeout=(5, 60))
                resp.raise_for_status()
                opened.append(resp)
            during = request_latency(st.url, st.auth, samples)
            alive = sum(1 for r in opened if re.match(r"^retry: ", next(r.iter_lines(decode_unicode=True))))
        finally:
            for resp in opened:
                resp.close()
    return {"streams": streams, "samples": samples, "without": before, "with": during, "streams_alive": alive}
