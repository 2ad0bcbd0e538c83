"""What users would run instead, on the same rows in the same run: the plain datasketch loop in memory,
datasketch's MinHashLSH on its Redis storage, and text-dedup's MinHash deduplication (in its own virtual
environment, created on first use)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import redis

from bench.data import Row
from bench.offline import datasketch_loop
from bench.service import ROOT, _free_port
from headline_dedup.evaluation import score
from headline_dedup.feeds import FeedRow
from headline_dedup.offline import cluster_rows, memory_engine
from headline_dedup.storage.embedded import EmbeddedRedis

TEXT_DEDUP = "text-dedup==0.4.0"
TEXT_DEDUP_VENV = ROOT / "bench" / ".venv-textdedup"
# text-dedup's defaults are for documents (word 5-grams, >= 5 words, threshold 0.7); the headline setting is the
# best pair F1 of a small grid on the dev set (n-gram 1-3, threshold 0.3-0.5).
TEXT_DEDUP_SETTINGS = {"text-dedup MinHash (defaults)": [],
                       "text-dedup MinHash (words, threshold 0.5)": ["--ngram", "1", "--min_length", "1",
                                                                     "--threshold", "0.5"]}


class Unavailable(Exception):
    """A rival that cannot run here; the message says why."""


def quality(labels: dict[str, str], dev: Sequence[Row]) -> dict:
    s = score([labels[r.id] for r in dev], [r.label for r in dev])
    return {"pair_f1": s.pair_f1, "bcubed_f1": s.bcubed_f1}


def ours_labels(rows: Sequence[Row]) -> dict[str, str]:
    feed = (FeedRow(r.id, r.text, r.timestamp) for r in rows)
    return {row.id: d.cluster_id or f"rejected:{row.id}" for row, d in cluster_rows(feed, memory_engine())}


def datasketch_redis(rows: Sequence[Row], threshold: float = 0.5, num_perm: int = 128) -> dict:
    """The datasketch loop of `bench.offline.datasketch_loop`, on datasketch's Redis storage (bundled
    redis-server over TCP, as its storage_config needs host and port); with the Redis memory it used."""
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=_free_port()).start()
        try:
            client = redis.Redis(port=server.port)
            before = client.info("memory")["used_memory"]
            run = datasketch_loop(rows, threshold, num_perm, storage_config={
                "type": "redis", "basename": b"bench", "redis": {"host": "127.0.0.1", "port": server.port}})
            used = client.info("memory")["used_memory"] - before
        finally:
            server.stop()
    return {**run, "redis_bytes_per_headline": used / len(rows)}


def text_dedup_python() -> Path:
    """The Python of text-dedup's own virtual environment (created and installed on first use)."""
    python = TEXT_DEDUP_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TEXT_DEDUP_VENV)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", TEXT_DEDUP], capture_output=True,
                              text=True)
        if done.returncode:
            raise Unavailable(f"pip install {TEXT_DEDUP} failed: {done.stderr.strip()[-500:]}")
    return python


def text_dedup(rows: Sequence[Row], options: list[str]) -> dict:
    """text-dedup's MinHash CLI on `rows` (one process, --num_proc 1), timed inside its process."""
    python = text_dedup_python()
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "rows.tsv"
        data.write_text("".join(f"{r.id}\t{' '.join(r.text.split())}\n" for r in rows), encoding="utf-8")
        done = subprocess.run([str(python), str(ROOT / "bench" / "textdedup_run.py"), str(data), work, *options],
                              capture_output=True, text=True)
        if done.returncode:
            raise Unavailable(f"text-dedup failed: {done.stderr.strip()[-500:]}")
        result = json.loads((Path(work) / "result.json").read_text())
    return {"seconds": result["seconds"], "per_second": len(rows) / result["seconds"], "labels": result["labels"]}


def markdown(methods: list[dict], ours_per_second: float) -> str:
    md = "# Side by side: speed on scraped headlines, quality on the labelled dev set\n\n"
    md += "| method | rows timed | headlines/s | speed, ours = 1 | pair F1 | B³ F1 | note |\n|---|---|---|---|---|---|---|\n"
    for m in methods:
        speed = m.get("per_second")
        cells = [m["name"], f"{m['rows']:,}", f"{speed:,.0f}" if speed else "-",
                 f"{speed / ours_per_second:.3f}" if speed else "-",
                 f"{m['pair_f1']:.3f}" if "pair_f1" in m else "-", f"{m['bcubed_f1']:.3f}" if "bcubed_f1" in m else "-",
                 m.get("note", "")]
        md += "| " + " | ".join(cells) + " |\n"
    by_name = {m["name"]: m for m in methods}
    ds_redis = by_name.get("datasketch MinHashLSH, Redis storage", {}).get("per_second")
    ours_redis = next((m["per_second"] for m in methods if m["name"].startswith("headline-dedup on Redis")), None)
    if ds_redis and ours_redis:
        md += (f"\nBoth on Redis, same rows: ours {ours_redis:,.0f}/s against datasketch's Redis storage "
               f"{ds_redis:,.0f}/s: **{ours_redis / ds_redis:.0f}×**; ours offline against it: "
               f"**{ours_per_second / ds_redis:.0f}×**.\n")
    md += ("\nAll on one core. The datasketch rows run DESIGN.md's loop (lower-cased words, threshold 0.5, join the "
           "earliest candidate's group). text-dedup 0.4.0 runs in its own virtual environment with `--num_proc 1`; its "
           "time includes its own dataset loading and saving, as its command line runs it.\n")
    return md
