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
    assert main(["service", "events", "durability", "--smoke", "--out", str(tmp_path)]) == 0
    durability = json.loads((tmp_path / "durability.json").read_text())
    assert all(r["lost"] == 0 for r in durability["runs"] if r["appendfsync"] == "always")
    service = json.loads((tmp_path / "service.json").read_text())
    assert {(r["workers"], r["batch"]) for r in service["runs"]} == {(w, b) for w in (1, 2) for b in (1000, 100, 1)}
    assert all(r["clustered"] == r["headlines"] for r in service["runs"])
    events = json.loads((tmp_path / "events.json").read_text())
    assert events["deliveries"] == events["expected_deliveries"]
