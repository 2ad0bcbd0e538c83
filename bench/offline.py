"""Offline clustering speed: our `cluster` code path against the plain datasketch in-memory loop, same rows,
one core; `python -m bench.offline` runs the plain-list comparison (whole `cluster` processes, see `plain_list`:
on two cores `cluster` finds candidates in a second process, and it also runs held to one core)."""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from bench import data, report
from bench.data import Row
from headline_dedup.feeds import FeedRow
from headline_dedup.offline import cluster_rows, memory_engine
from headline_dedup.runtime import tune_process

ROOT = Path(__file__).resolve().parents[1]


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


# Word overlap alone, as the datasketch loop: the default settings add word-vector candidates (`--vectors words`).
LEXICAL = ("--vectors", "none")
SETUPS = {"plain": "plain list, --vectors none", "timed": "with times, --vectors none",
          "default": "plain list, default settings (word-vector candidates)",
          "timed default": "with times, default settings",
          "one core": "plain list, default settings, held to one core"}


def _one_core() -> None:
    """In the child, before `cluster` starts: one core only (it finds candidates in a second process when it
    has two, see `lookahead`)."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def cluster_command(path: Path, *options: str, root: Path = ROOT, one_core: bool = False) -> dict:
    """Wall time of one whole `headline-dedup cluster` process on `path` (start-up, reading and writing
    included), running the code of the tree `root` (this one by default), and the cluster of each row;
    `one_core`: the process may use one core only."""
    script = Path(sys.executable).with_name("headline-dedup")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "headline_dedup.cli.main"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        start = time.perf_counter()
        subprocess.run([*command, "cluster", str(path), *options], stdout=out, env=env, check=True,
                       preexec_fn=_one_core if one_core else None)
        elapsed = time.perf_counter() - start
        out.seek(0)
        labels = [line.rstrip("\n").split("\t")[1] for line in out.readlines()[1:]]
    return {"seconds": elapsed, "headlines": len(labels), "clusters": len(set(labels) - {""}), "labels": labels}


def write_inputs(rows: Sequence[Row], folder: Path) -> tuple[Path, Path]:
    """The rows as a plain list (one title a line, no times) and as a TSV with a time column."""
    plain, timed = folder / "titles.txt", folder / "titles.tsv"
    plain.write_text("".join(f"{r.text}\n" for r in rows), encoding="utf-8")
    with open(timed, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["row", "title", "time"])
        w.writerows([r.id, r.text, datetime.fromtimestamp(r.timestamp, timezone.utc).isoformat()] for r in rows)
    return plain, timed


def plain_list(rows: Sequence[Row], repeats: int = 3, baseline: Path | None = None) -> dict:
    """`headline-dedup cluster` as whole processes on the rows as a plain list and with their times, against
    the datasketch loop on the same titles (in this process, its loop alone: no start-up, no reading), taking
    turns `repeats` times so that the machine's load falls on all alike; medians. `baseline`: another tree
    (a checkout of an earlier commit) whose `cluster` runs in the same turns, and whose assignments are compared
    with this tree's."""
    if any("\n" in r.text or "\r" in r.text for r in rows):
        raise ValueError("a title spans lines: the plain list would not match the rows")
    trees = {"": ROOT, **({"baseline ": baseline} if baseline else {})}
    runs: dict[str, list[dict]] = {"loop": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain, timed = write_inputs(rows, Path(tmp))
        setups = {"plain": (plain, LEXICAL), "timed": (timed, ("--time-column", "time", *LEXICAL)),
                  "default": (plain, ()), "timed default": (timed, ("--time-column", "time")), "one core": (plain, ())}
        for _ in range(repeats):
            loop = datasketch_loop(rows)
            loop.pop("labels")
            runs["loop"].append(loop)
            for prefix, root in trees.items():
                for name, (path, options) in setups.items():
                    runs.setdefault(prefix + name, []).append(
                        cluster_command(path, *options, root=root, one_core=name == "one core"))
    identical = {name: runs[name][0]["labels"] == runs["baseline " + name][0]["labels"]
                 for name in setups if baseline}
    one_core_identical = runs["one core"][0]["labels"] == runs["default"][0]["labels"]
    for name in runs:
        for run in runs[name]:
            run.pop("labels", None)
    median = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    return {"headlines": len(rows), "repeats": repeats, "code": _commit(ROOT),
            "baseline": _commit(baseline) if baseline else None,
            "median_seconds": median, "speed_vs_loop": {k: median["loop"] / s for k, s in median.items()},
            "identical_to_baseline": identical, "one_core_identical": one_core_identical,
            "clusters": {k: v[0]["clusters"] for k, v in runs.items()},
            "runs": runs}


def _commit(root: Path) -> str:
    """The commit a tree is a checkout of, and whether it has uncommitted changes to tracked files."""
    git = ["git", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode:
        return "not a git checkout"
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def plain_list_markdown(r: dict) -> str:
    n, med = r["headlines"], r["median_seconds"]
    md = (f"# `headline-dedup cluster` on a plain list ({n:,} scraped titles) against the datasketch loop\n\n"
          f"Reproduce: `.venv/bin/python -m bench.offline --size {n} --repeats {r['repeats']}`; add `--baseline DIR` "
          "to run an earlier commit alongside (`git worktree add --detach DIR <commit>`). "
          f"The first {n:,} titles of the scrape, in scrape-time order: as a plain list "
          "(one title a line, no time column: every story stays live and nothing leaves the window) and as a TSV "
          "with their scrape times (`--time-column time`). Ours is the whole process (start-up, reading, "
          "writing); the datasketch loop (`datasketch_loop`, as its README suggests, no verification) is timed "
          "in-process over its loop alone, which favours it. `--vectors none` compares word overlap with word "
          "overlap; the default settings also search word vectors. Median of "
          f"{r['repeats']} runs taken in turns; the machine (2 cores) is shared with another engineer's work, so "
          f"read the ratios, not the times. Code: {r['code']}.\n\n")
    names = {"loop": "datasketch MinHashLSH loop (in memory, loop only)"}
    for key in med:
        if key != "loop":
            base = key.removeprefix("baseline ")
            names[key] = f"{'baseline ' if key != base else ''}headline-dedup cluster, {SETUPS[base]}"
    md += report.table(["method", "seconds (median)", "headlines/s", "clusters", "speed vs the loop"], [
        [names[k], f"{s:.2f}", f"{n / s:,.0f}", f"{r['clusters'][k]:,}", f"{r['speed_vs_loop'][k]:.2f}×"]
        for k, s in med.items()])
    if r["baseline"]:
        same = ", ".join(f"{SETUPS[k]}: {'identical' if v else 'DIFFERENT'}"
                         for k, v in r["identical_to_baseline"].items())
        md += f"\nBaseline: commit {r['baseline']}. Cluster of every row against the baseline's: {same}.\n"
    md += ("\nThe default settings on two cores and held to one core: "
           f"{'identical' if r['one_core_identical'] else 'DIFFERENT'} clusters.\n")
    md += "\nEvery run (seconds):\n\n"
    md += report.table(["run", *med], [[i + 1, *(f"{r['runs'][k][i]['seconds']:.2f}" for k in med)]
                                       for i in range(r["repeats"])])
    return md


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.offline", description=plain_list.__doc__)
    p.add_argument("--size", type=int, default=30_000, help="scraped titles")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--baseline", type=Path, default=None, help="a checkout of an earlier commit to run alongside")
    p.add_argument("--out", type=Path, default=report.RESULTS)
    args = p.parse_args(argv)
    tune_process()  # as `python -m bench` does: the loop runs in this process
    result = plain_list(data.scrape(args.size), args.repeats, args.baseline)
    size = f"{args.size // 1000}k" if args.size % 1000 == 0 else str(args.size)
    name = "offline.plain-list" if args.size == 30_000 else f"offline.plain-list.{size}"
    path = report.write(name, result, plain_list_markdown(result), args.out)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
