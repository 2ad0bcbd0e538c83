"""The plain-list benchmark at a tiny size, so that it cannot rot (its timings are not asserted)."""
import json
from pathlib import Path

from bench.offline import ROOT, main
from tests.conftest import shared


def test_plain_list_benchmark_smoke(tmp_path):
    shared("fr-headlines-scrape/all_headlines.tsv.gz")
    assert main(["--size", "200", "--repeats", "1", "--baseline", str(ROOT), "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "offline.plain-list.200.json").read_text())  # a report per size
    setups = {"plain", "timed", "default", "timed default", "one core"}
    assert set(result["median_seconds"]) == {"loop", *setups, *(f"baseline {s}" for s in setups)}
    assert result["identical_to_baseline"] == dict.fromkeys(setups, True) and result["one_core_identical"]
    assert all(run["headlines"] == 200 for name, runs in result["runs"].items() if name != "loop" for run in runs)
    assert Path(tmp_path / "offline.plain-list.200.md").read_text().startswith("# `headline-dedup cluster` on a plain")
