"""Each benchmark at a tiny size, so that they cannot rot (their timings are not asserted)."""
import json

from bench.__main__ import main
from tests.conftest import shared


def test_offline_benchmark_smoke(tmp_path):
    shared("fr-headlines-scrape/all_headlines.tsv.gz")
    assert main(["offline", "--smoke", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "offline.json").read_text())
    assert result["ours"]["headlines"] == result["datasketch_loop"]["headlines"] == 500
    assert result["ours"]["curve"] and (tmp_path / "offline.md").read_text().startswith("# Offline")


def test_service_and_events_benchmarks_smoke(tmp_path):
    shared("fr-headlines-scrape/all_headlines.tsv.gz")
    assert main(["service", "serve", "events", "durability", "--smoke", "--out", str(tmp_path)]) == 0
    serve = json.loads((tmp_path / "serve.json").read_text())
    assert all(r["clustered"] == r["headlines"] for r in serve["runs"])
    assert all(r["streams_alive"] == r["streams"] for r in serve["idle_streams"].values())
    durability = json.loads((tmp_path / "durability.json").read_text())
    assert all(r["lost"] == 0 for r in durability["runs"] if r["appendfsync"] == "always")
    service = json.loads((tmp_path / "service.json").read_text())
    assert {(r["workers"], r["batch"]) for r in service["runs"]} == {(w, b) for w in (1, 2) for b in (1000, 100, 1)}
    assert all(r["clustered"] == r["headlines"] for r in service["runs"])
    events = json.loads((tmp_path / "events.json").read_text())
    assert events["deliveries"] == events["expected_deliveries"]


def test_scaling_memory_and_rivals_benchmarks_smoke(tmp_path):
    shared("fr-headlines-scrape/all_headlines.tsv.gz")
    assert main(["scaling", "memory", "rivals", "--smoke", "--out", str(tmp_path)]) == 0
    scaling = json.loads((tmp_path / "scaling.json").read_text())
    assert [r["size"] for r in scaling["runs"]] == [200, 500] and all(r["peak_rss_mb"] > 0 for r in scaling["runs"])
    assert (tmp_path / "scaling.png").read_bytes()[:4] == b"\x89PNG"
    memory = json.loads((tmp_path / "memory.json").read_text())
    assert [s["headlines"] for s in memory["snapshots"]] == [200, 500]
    assert all(0 < s["indexed"] <= s["headlines"] and s["families"]["bands"]["bytes"] > 0
               and s["band_bytes_per_indexed"] < 1500 for s in memory["snapshots"])
    methods = {m["name"]: m for m in json.loads((tmp_path / "rivals.json").read_text())["methods"]}
    assert methods["headline-dedup cluster (ours)"]["pair_f1"] > 0.3
    assert methods["datasketch MinHashLSH, Redis storage"]["per_second"] > 0
    assert all("not run" in m["note"] for n, m in methods.items() if n.startswith("text-dedup"))


def test_ceiling_benchmark_smoke(tmp_path):
    shared("seed-feed/feed.txt")
    assert main(["ceiling", "--smoke", "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "ceiling.json").read_text())["runs"]
    assert {(r["candidates"].split()[0], r["live_threshold"]) for r in runs} == {
        (c, bar) for c in ("LSH", "every") for bar in (0.45, 0.3)}
    # The README's claim: with no candidate missed, a bar of 0.30 forms every seed group it names.
    everything = next(r for r in runs if r["candidates"].startswith("every") and r["live_threshold"] == 0.3)
    assert all(everything["seed_groups"].values())


def test_cluster_benchmark_smoke(tmp_path):
    """Namespaces in parallel on a real 3-master Redis Cluster (tiny size)."""
    assert main(["cluster", "--smoke", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "cluster.json").read_text())
    assert [r["namespaces"] for r in result["runs"]] == [1, 2, 3]
    assert all(len(r["masters"]) == r["namespaces"] for r in result["runs"])  # each on its own master


def test_backfill_benchmark_smoke(tmp_path):
    assert main(["backfill", "--smoke", "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "backfill.json").read_text())["runs"]
    assert [(r["configuration"], r["times"]) for r in runs] == [
        ("fast path (default)", False), ("fast path (default)", True), ("e5 tier", False), ("e5 tier", True)]
    for r in runs:  # every headline decided; a replay keeps every headline's own time, a backfill none
        assert r["clustered"] == r["headlines"] == 500
        assert r["with_own_time"] == (500 if r["times"] else 0)


def test_e5calls_benchmark_smoke(tmp_path):
    shared("fr-headlines-scrape/all_headlines.tsv.gz")
    assert main(["e5calls", "--smoke", "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "e5calls.json").read_text())["runs"]
    assert [r["call_size"] for r in runs] == [1, 4, 16, 64] and all(r["per_second"] > 0 for r in runs)
    assert (tmp_path / "e5calls.md").read_text().startswith("# e5: headlines per call")
