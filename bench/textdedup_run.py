"""Runs text-dedup's MinHash deduplication (`python -m text_dedup.minhash`) on a TSV of `id<TAB>text` rows and
writes WORKDIR/result.json: {seconds, labels: {id: cluster}} (its logs take stdout). Standalone on purpose: it runs in text-dedup's own virtual
environment (see bench/rivals.py), which has none of our dependencies.

usage: textdedup_run.py ROWS.tsv WORKDIR [text-dedup options...]
"""
import csv
import json
import os
import sys
import time

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    rows_path, work, *options = sys.argv[1:]
    with open(rows_path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t", 1) for line in f]
    data = os.path.join(work, "rows.csv")
    with open(data, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([[text] for _, text in rows])

    import text_dedup.minhash as td  # imported late: its import alone takes seconds (datasets, pyarrow)

    args = ["--path", "csv", "--data_files", data, "--split", "train", "--cache_dir", os.path.join(work, "cache"),
            "--output", os.path.join(work, "out"), "--column", "text", "--num_proc", "1", *options]
    start = time.perf_counter()
    td.main.main(args, standalone_mode=False)
    seconds = time.perf_counter() - start
    # text-dedup keeps its union-find in the module; indices are row positions in the input
    labels = {rid: f"t{td.uf.find(i)}" for i, (rid, _) in enumerate(rows)}
    with open(os.path.join(work, "result.json"), "w", encoding="utf-8") as f:
        json.dump({"seconds": seconds, "labels": labels}, f)


if __name__ == "__main__":
    main()
