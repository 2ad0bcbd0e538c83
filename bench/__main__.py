"""`python -m bench [offline ...] [--size N] [--smoke]`: run benchmarks and write bench/results/."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import data, offline, report
from headline_dedup.runtime import tune_gc


def run_offline(size: int, out_dir: Path) -> Path:
    rows = data.scrape(size)
    a = offline.ours(rows, chunk=max(1, size // 10))
    b = offline.datasketch_loop(rows)
    b.pop("labels")
    md = f"# Offline clustering speed ({size:,} scraped headlines, scrape-time order, one core)\n\n"
    md += report.table(["method", "headlines/s", "seconds", "clusters", "ratio (ours = 1)"], [
        [r["name"], f"{r['per_second']:,.0f}", f"{r['seconds']:.1f}", f"{r['clusters']:,}",
         f"{r['per_second'] / a['per_second']:.2f}"] for r in (a, b)])
    md += "\nCost per headline as the index grows (ours):\n\n"
    md += report.table(["headlines seen", "index size", "µs per headline"],
                       [[f"{c['indexed']:,}", f"{c['index_size']:,}", f"{c['us_per_headline']:.0f}"]
                        for c in a["curve"]])
    return report.write("offline", {"size": size, "ours": a, "datasketch_loop": b}, md, out_dir)


BENCHMARKS = {"offline": run_offline}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("names", nargs="*", choices=[[]] + list(BENCHMARKS), default=[],
                   help="benchmarks to run (default: all)")
    p.add_argument("--size", type=int, default=100_000, help="headlines for the offline benchmark")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, results under bench/results/smoke")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    tune_gc()  # as the console script does
    out_dir = args.out or (report.RESULTS / "smoke" if args.smoke else report.RESULTS)
    size = 500 if args.smoke else args.size
    for name in args.names or list(BENCHMARKS):
        path = BENCHMARKS[name](size, out_dir)
        print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
