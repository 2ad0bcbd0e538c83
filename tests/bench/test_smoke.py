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
