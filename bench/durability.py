"""What a crash of the bundled redis-server loses: acknowledged ingests missing after SIGKILL and restart, under
AOF appendfsync everysec and always, with the write rate each mode sustains."""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import redis

from headline_dedup.storage.embedded import EmbeddedRedis
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys


def run(mode: str, seconds: float = 2.0, batch: int = 10) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), appendfsync=mode).start()
        client = redis.Redis.from_url(server.url)
        ingestor = Ingestor(client, Keys(), 86400, 10**9)
        acked: list[str] = []
        stop = threading.Event()

        def writer():
            n = 0
            while not stop.is_set():
                try:
                    got = ingestor.submit([{"id": f"d{n + i}", "text": f"Titre numéro {n + i} pour la durabilité"}
                                           for i in range(batch)])
                except redis.ConnectionError:
                    return
                acked.extend(a.headline_id for a in got)  # acknowledged: the script returned
                n += batch

        t = threading.Thread(target=writer)
        start = time.perf_counter()
        t.start()
        time.sleep(seconds)
        server.kill()  # SIGKILL mid-traffic
        stop.set()
        t.join()
        rate = len(acked) / (time.perf_counter() - start)
        server = EmbeddedRedis(Path(tmp), appendfsync=mode).start()
        client = redis.Redis.from_url(server.url)
        pipe = client.pipeline(transaction=False)
        for hid in acked:
            pipe.exists(Keys().headline(hid))
        lost = sum(1 for found in pipe.execute() if not found)
        server.stop()
    return {"appendfsync": mode, "acknowledged": len(acked), "lost": lost, "writes_per_second": rate,
            "loss_window_seconds": lost / rate if rate else 0.0}
