"""Offline scaling: `headline-dedup cluster` throughput, peak RSS and the cost per headline as the index grows,
each size in a fresh process (so that peak RSS is that size's own). `python -m bench.scaling --size N` runs one
size and prints its JSON; `run()` drives the sizes and `plot()` draws the cost curve."""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

from bench import data, offline, report
from bench.service import ROOT
from headline_dedup.runtime import tune_process


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(size: int, chunk: int) -> dict:
    """One size, in this process."""
    rows = data.scrape(size)
    input_rss = _rss_mb()
    r = offline.ours(rows, chunk=chunk)
    r.update(size=len(rows), input_rss_mb=input_rss,
             peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return r


def run(sizes: list[int], chunk: int) -> list[dict]:
    """Each size in a child process, one after the other."""
    out = []
    for size in sizes:
        proc = subprocess.run([sys.executable, "-m", "bench.scaling", "--size", str(size), "--chunk",
                               str(min(chunk, size))], cwd=ROOT, capture_output=True, text=True, check=True)
        out.append(json.loads(proc.stdout))
    return out


def flatness(curve: list[dict]) -> dict:
    """Cost of the last chunk over the first, and the worst chunk over the best."""
    costs = [c["us_per_headline"] for c in curve]
    return {"last_over_first": costs[-1] / costs[0], "max_over_min": max(costs) / min(costs)}


def plot(curve: list[dict], path: Path) -> Path:
    x = [c["indexed"] / 1000 for c in curve]
    with report.figure(path, "headline-dedup cluster: cost per headline as the stream grows",
                       "headlines clustered (thousands, scrape-time order)",
                       "µs per headline (each point: the last chunk)") as ax:
        ax.plot(x, [c["us_per_headline"] for c in curve], marker=".", label="µs per headline")
        twin = ax.twinx()
        twin.plot(x, [c["index_size"] for c in curve], color="tab:orange", alpha=0.6,
                  label="headlines in the candidate index (sliding window)")
        twin.set_ylabel("index size")
        twin.set_ylim(bottom=0)
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(lines, [line.get_label() for line in lines], loc="lower right", fontsize=8)
    return path


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.scaling")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--chunk", type=int, default=10_000)
    args = p.parse_args()
    tune_process()
    print(json.dumps(measure(args.size, args.chunk)))


if __name__ == "__main__":
    main()
